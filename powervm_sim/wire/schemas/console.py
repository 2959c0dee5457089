"""Schema of ManagementConsole: the console serving the REST API, which
on NovaLink is the NovaLink partition of its one managed system.

The elements and their order are those of the NovaLink capture pypowervm
ships (managementconsole_ssh.txt, schema V1_3_0): the system's MTMS, empty
frame, system, interface and pool lists, then the SSH keys pypowervm's
wrapper reads.  HMC documents of later schemas name the keys
PublicSSHKeyValue and AuthorizedKeysValue; pypowervm 1.1.27 reads only
these names.  AuthorizedKeys is what a client writes: the keys the
console's user wlp accepts.
"""

from powervm_sim.wire import spec

# As the capture writes the list: its schema version and Metadata.
_KEYS_ATTRS = 'ksv=V1_3_0 schemaVersion=V1_3_0 metadata'

MANAGEMENT_CONSOLE = spec.compile_schema('''
ManagementConsole
  MachineTypeModelAndSerialNumber ROR
    MachineType ~ parent.machine_type CUR
    Model ~ parent.model CUR
    SerialNumber ~ parent.serial CUR
  ManagedFrames CUD
  ManagedSystems CUD
  ManagementConsoleName ~ name CUR
  NetworkInterfaces [metadata] CUD
  PowerEnterprisePools CUD
  PublicSSHKey [ksv=V1_3_0] ~ public_key_text ROO
  AuthorizedKeys [''' + _KEYS_ATTRS + '''] * authorized_keys ROO
    AuthorizedKey = key
''')
