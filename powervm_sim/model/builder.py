"""The inventory a fresh simulator starts with.

Each managed system gets what a NovaLink-managed POWER server has: the
NovaLink partition, one or two running VIOSes with RMC active, the standard
virtual switches, and optionally some client LPARs.
"""

from powervm_sim.model import mapping
from powervm_sim.model import network
from powervm_sim.model import partition
from powervm_sim.model import san
from powervm_sim.model import ssp
from powervm_sim.model import storage

STANDARD_VSWITCHES = ('ETHERNET0', 'MGMTSWITCH', 'NovaLinkVEABridge')


def build(model, systems=1, vioses=2, lpars=0, novalink_io=False,
          shared_ssp=False):
    """Populate ``model``; returns the managed systems in creation order.

    :param novalink_io: the NovaLink partition hosts I/O: it is in the
                        VIOS feed (the management VIOS) and serves disks
                        from its files and from Ceph, as NovaLink does
                        where it runs the I/O stack itself.
    :param shared_ssp: the VIOSes of every system form one SSP cluster
                       (else each system's VIOSes form one of their own).
    """
    built = [build_system(model, index, vioses, lpars, novalink_io,
                          own_cluster=not shared_ssp)
             for index in range(systems)]
    if shared_ssp:
        ssp.build_cluster(model, built)
    return built


def build_system(model, index, vioses=2, lpars=0, novalink_io=False,
                 own_cluster=True):
    """One managed system; ``own_cluster``: its VIOSes form an SSP
    cluster of their own."""
    serial = '21EE%03X' % (0x2D0 + index)
    system = model.add_system(
        name='Server-9009-42A-SN%s' % serial, serial=serial,
        primary_ip='127.0.0.%d' % (index + 1))
    for switch_id, name in enumerate(STANDARD_VSWITCHES):
        model.add_vswitch(system, name, switch_id=switch_id)
    _add_novalink(model, system, novalink_io)
    for number in range(1, vioses + 1):
        vios = model.add_partition(
            system, partition.VIOS, name='vios%d' % number,
            partition_id=number + 1,
            iscsi_initiator='iqn.1986-03.com.ibm:%s-vios%d' % (
                serial.lower(), number))
        storage.build_vios_storage(model, vios)
        mapping.build_vios_fc_ports(model, vios)
    san.build_system_san(model, system)
    network.build_system_network(model, system)
    if own_cluster:
        ssp.build_cluster(model, [system])
    add_lpars(model, system, lpars)
    return system


def _add_novalink(model, system, hosts_io):
    """The system's NovaLink partition: an LPAR, or the management VIOS
    when it hosts I/O (with open-iscsi's initiator name)."""
    extra = {}
    cls = partition.LPAR
    if hosts_io:
        cls = partition.VIOS
        extra['iscsi_initiator'] = ('iqn.1993-08.org.debian:01:%s' %
                                    system.serial.lower())
    model.add_partition(
        system, cls, name='novalink_%s' % system.serial, partition_id=1,
        is_mgmt=True, partition_type='AIX/Linux', state=partition.RUNNING,
        rmc_state='active', mem_desired=4096, mem_min=2048, mem_max=8192,
        proc_units_desired=0.5, proc_units_min=0.5, proc_units_max=2.0,
        vprocs_desired=2, vprocs_max=4, os_version='Linux/Ubuntu 22.04',
        **extra)


def add_lpars(model, system, count):
    """``count`` small client LPARs, lpar0001 onwards, not activated."""
    for number in range(1, count + 1):
        model.add_partition(
            system, partition.LPAR, name='lpar%04d' % number,
            mem_desired=1024, mem_min=512, mem_max=2048,
            proc_units_desired=0.1, proc_units_min=0.05,
            proc_units_max=0.5, vprocs_desired=1, vprocs_max=1)
