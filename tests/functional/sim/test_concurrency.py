"""Many pypowervm clients writing at the same moment: nothing is lost,
nothing is handed out twice, and nobody gets a server error.

A threading.Barrier releases the writers together, so their requests
really overlap on the server's request threads.
"""

import threading

from pypowervm import const as pvm_const
from pypowervm.tasks import cna as pvm_cna
from pypowervm.tasks import scsi_mapper as pvm_smap
from pypowervm.utils import lpar_builder
from pypowervm.utils import retry
from pypowervm.wrappers import logical_partition as pvm_lpar
from pypowervm.wrappers import managed_system as pvm_ms
from pypowervm.wrappers import storage as pvm_stg
from pypowervm.wrappers import virtual_io_server as pvm_vios
import testtools

from powervm_sim import fixture

WRITERS = 20
# Upper bound for a writer thread to finish (a hung thread fails the
# test instead of hanging it).
GUARD_SECONDS = 120


def build_lpar(adapter, host, name):
    attrs = {lpar_builder.NAME: name, lpar_builder.MEM: 512,
             lpar_builder.VCPU: 1, lpar_builder.PROC_UNITS: '0.05'}
    stdz = lpar_builder.DefaultStandardize(host)
    return lpar_builder.LPARBuilder(adapter, attrs, stdz).build()


def etag_retried(func):
    """func(wrapper, ...) retried by pypowervm on 412, re-reading first.

    pypowervm's WrapperTask and entry_transaction add a lock on the
    object's UUID inside one process, which would queue these writers one
    behind the other; without it they race as separate processes (two
    compute services, a compute service and an operator's tool) do.
    """
    return retry.retry(tries=60, argmod_func=retry.refresh_wrapper)(func)


@etag_retried
def add_vdisk(vg_w, name):
    vg_w.virtual_disks.append(pvm_stg.VDisk.bld(vg_w.adapter, name, 1))
    return vg_w.update()


class Writers:
    """Run func(index) in n threads released together by a barrier."""

    def __init__(self, test, n):
        self.test = test
        self.barrier = threading.Barrier(n)
        self.errors = []
        self.results = [None] * n
        self.func = None
        self.threads = [threading.Thread(target=self._run, args=(i,),
                                         daemon=True) for i in range(n)]

    def _run(self, index):
        try:
            self.barrier.wait(GUARD_SECONDS)
            self.results[index] = self.func(index)
        except Exception as exc:  # every failure is reported below
            self.errors.append((index, exc))

    def run(self, func):
        self.func = func
        for thread in self.threads:
            thread.start()
        for thread in self.threads:
            thread.join(GUARD_SECONDS)
        self.test.assertEqual([], [t for t in self.threads if t.is_alive()])
        self.test.assertEqual([], self.errors)
        return self.results


class ConcurrencyTestBase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sim = self.useFixture(fixture.NovaLinkFixture())
        self.model = self.sim.model
        self.system = self.sim.endpoints[0].system
        self.vios = self.model.vioses()[0]
        self.datavg = self.vios.volume_groups[1]
        # One logged-on adapter per writer, made before the race starts.
        self.adapters = [self.sim.adapter() for _ in range(WRITERS)]
        self.host = pvm_ms.System.get(self.adapters[0])[0]


class TestConcurrentWriters(ConcurrencyTestBase):

    def test_twenty_writers_lose_nothing(self):
        names = ['racer%02d' % i for i in range(WRITERS)]

        def write(i):
            adapter = self.adapters[i]
            lpar_w = build_lpar(adapter, self.host, names[i]).create(
                parent=self.host)
            cna_w = pvm_cna.crt_cna(adapter, None, lpar_w.uuid, 100 + i)
            add_vdisk(pvm_stg.VG.get(adapter, uuid=self.datavg.uuid,
                                     parent_type=pvm_vios.VIOS,
                                     parent_uuid=self.vios.uuid),
                      'disk_' + names[i])
            return lpar_w.uuid, cna_w.uuid

        results = Writers(self, WRITERS).run(write)

        lpars = {p.name: p for p in self.model.lpars(self.system)}
        self.assertEqual(set(names), set(lpars) & set(names))
        self.assertEqual({uuid.lower() for uuid, _ in results},
                         {lpars[n].uuid.lower() for n in names})
        partition_ids = [p.partition_id for p in self.system.partitions]
        self.assertEqual(len(partition_ids), len(set(partition_ids)))
        for i, name in enumerate(names):
            [cna] = lpars[name].adapters
            self.assertEqual(results[i][1].lower(), cna.uuid)
            self.assertEqual(100 + i, cna.pvid)
        macs = [a.mac for p in self.system.partitions for a in p.adapters
                if a.kind == 'ClientNetworkAdapter']
        self.assertEqual(len(macs), len(set(macs)))
        disks = [vd.name for vd in self.datavg.vdisks]
        self.assertEqual(len(disks), len(set(disks)))
        self.assertTrue({'disk_' + n for n in names}.issubset(disks))
        # What the clients see agrees with the model.
        served = {w.name for w in pvm_lpar.LPAR.get(self.adapters[0])}
        self.assertTrue(set(names).issubset(served))

    def test_twenty_mappings_on_one_vios_all_land(self):
        # Every writer updates the same VIOS document: each 412 makes a
        # writer re-read it and add its mapping again.
        lpar_w = build_lpar(self.adapters[0], self.host, 'mapped').create(
            parent=self.host)
        names = ['map%02d' % i for i in range(WRITERS)]
        for name in names:
            self.model.add_vdisk(self.datavg, name, 1)

        @etag_retried
        def add_mapping(vios_w, i):
            [vdisk] = [vdisk for vdisk in pvm_stg.VG.get(
                vios_w.adapter, uuid=self.datavg.uuid,
                parent_type=pvm_vios.VIOS,
                parent_uuid=self.vios.uuid).virtual_disks
                if vdisk.name == names[i]]
            vios_w.scsi_mappings.append(pvm_smap.build_vscsi_mapping(
                None, vios_w, lpar_w.uuid, vdisk))
            return vios_w.update()

        Writers(self, WRITERS).run(lambda i: add_mapping(
            pvm_vios.VIOS.get(self.adapters[i], uuid=self.vios.uuid,
                              xag=[pvm_const.XAG.VIO_SMAP]), i))
        lpar_id = self.model.get(lpar_w.uuid).partition_id
        mapped = [mapping.storage.name
                  for mapping in self.vios.scsi_mappings
                  if mapping.has_storage
                  and mapping.server.remote_lpar_id == lpar_id]
        self.assertEqual(names, sorted(mapped))

    def test_adapters_on_one_partition_get_distinct_slots(self):
        lpar_w = build_lpar(self.adapters[0], self.host, 'crowded').create(
            parent=self.host)

        def plug(i):
            return pvm_cna.crt_cna(self.adapters[i], None, lpar_w.uuid,
                                   200 + i)

        cnas = Writers(self, WRITERS).run(plug)
        part = self.model.get(lpar_w.uuid)
        slots = [a.slot for a in part.adapters]
        self.assertEqual(WRITERS, len(slots))
        self.assertEqual(len(slots), len(set(slots)))
        self.assertEqual(sorted(slots), sorted(c.slot for c in cnas))
        macs = [a.mac for a in part.adapters]
        self.assertEqual(len(macs), len(set(macs)))

    def test_two_vios_updates_both_land_through_etag_retry(self):
        # Both writers read the VIOS (same etag), then wait for each other
        # before posting: one POST must get 412, re-read and run again.
        barrier = threading.Barrier(2)
        calls = []

        def writer(change):
            @etag_retried
            def edit(vios_w, i):
                calls.append(i)
                if calls.count(i) == 1:
                    barrier.wait(GUARD_SECONDS)
                change(vios_w)
                return vios_w.update()
            return edit

        def set_weight(vios_w):
            vios_w.proc_config.shared_proc_cfg.uncapped_weight = 200

        def set_priority(vios_w):
            vios_w.avail_priority = 191

        edits = [writer(set_weight), writer(set_priority)]
        Writers(self, 2).run(lambda i: edits[i](pvm_vios.VIOS.get(
            self.adapters[i], uuid=self.vios.uuid, xag=None), i))
        self.assertEqual(200, self.vios.uncapped_weight)
        self.assertEqual(191, self.vios.availability_priority)
        # Three runs: one writer had to run again after its 412.
        self.assertEqual(3, len(calls))
