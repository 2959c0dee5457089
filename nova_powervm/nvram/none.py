"""``[powervm] nvram_store = none``: NVRAM is not kept.

An LPAR made again (on another host, or after a shelve offload) then
starts with a fresh NVRAM: its firmware settings, such as the boot list,
are the defaults again.
"""

from nova_powervm.nvram import api


class NoStore(api.NvramStore):

    def store(self, instance_uuid, data):
        pass

    def fetch(self, instance_uuid):
        return None

    def delete(self, instance_uuid):
        pass
