"""Benchmarks: ``tox -e bench`` (``python -m tests.bench [module ...]``).

Each benchmark module listed in MODULES exposes ``run(report)`` and records
its measurements with ``report.measure``.  All results print as one table,
target beside measurement.  The run exits 0 when every target is met or
missed by at most MISS_TOLERANCE, and 1 when one is missed by more (or a
module could not finish), so a regression shows in CI without a slower
machine failing the build.

Not part of the unit or functional test runs: nothing here is a test case.
"""

import dataclasses
import importlib
import os
import platform
import sys
import traceback

# Benchmark modules, each with run(report).  Driver benchmarks join here.
MODULES = ('tests.bench.sim', 'tests.bench.driver', 'tests.bench.session',
           'tests.bench.volumes', 'tests.bench.migrations',
           'tests.bench.live_migration', 'tests.bench.nvram')
# A target missed by more than this factor fails the run.
MISS_TOLERANCE = 2.0

HIGHER = 'higher'
LOWER = 'lower'


@dataclasses.dataclass
class Result:
    module: str
    name: str
    measured: float
    unit: str
    # None: recorded for information, no target.
    target: float | None = None
    better: str = HIGHER
    note: str = ''

    @property
    def ratio(self):
        """How many times better than the target (>= 1 meets it)."""
        if self.target is None or not self.measured:
            return None
        if self.better == HIGHER:
            return self.measured / self.target
        return self.target / self.measured

    @property
    def verdict(self):
        ratio = self.ratio
        if self.target is None:
            return ''
        if ratio is None:
            return 'FAILED'
        if ratio >= 1:
            return 'ok'
        if ratio >= 1 / MISS_TOLERANCE:
            return 'missed'
        return 'MISSED >%gx' % MISS_TOLERANCE


class Report:
    """Collects the results of every benchmark module."""

    def __init__(self):
        self.results = []
        self.errors = []
        self.module = ''

    def measure(self, name, measured, unit, target=None, better=HIGHER,
                note=''):
        """Record one measurement (and its target, if it has one)."""
        if better not in (HIGHER, LOWER):
            raise ValueError('better must be %r or %r' % (HIGHER, LOWER))
        result = Result(self.module, name, measured, unit, target, better,
                        note)
        self.results.append(result)
        return result

    def failed(self):
        """Whether a module crashed or a target was missed too far."""
        return bool(self.errors) or any(
            r.verdict in ('FAILED', 'MISSED >%gx' % MISS_TOLERANCE)
            for r in self.results)

    def table(self):
        header = ('benchmark', 'target', 'measured', 'ratio', 'verdict')
        rows = [header] + [_row(r) for r in self.results]
        widths = [max(len(row[i]) for row in rows)
                  for i in range(len(header))]
        lines = ['  '.join(cell.ljust(width) if i == 0 else
                           cell.rjust(width) if i < 4 else cell
                           for i, (cell, width) in enumerate(zip(
                               row, widths, strict=True))).rstrip()
                 for row in rows]
        lines.insert(1, '-' * len(lines[0]))
        notes = ['  %s: %s' % (r.name, r.note) for r in self.results
                 if r.note]
        if notes:
            lines += ['', 'notes:'] + notes
        return '\n'.join(lines)


def _number(value, unit):
    if value is None:
        return '-'
    if abs(value) >= 100:
        text = '%.0f' % value
    elif abs(value) >= 1:
        text = '%.2f' % value
    else:
        text = '%.4f' % value
    return '%s %s' % (text, unit)


def _row(result):
    target = '-'
    if result.target is not None:
        target = ('>= ' if result.better == HIGHER else '<= ') + _number(
            result.target, result.unit)
    ratio = result.ratio
    return ('%s: %s' % (result.module.rsplit('.', 1)[-1], result.name),
            target, _number(result.measured, result.unit),
            '-' if ratio is None else '%.2fx' % ratio, result.verdict)


def _selected(names):
    if not names:
        return MODULES
    chosen = []
    for name in names:
        matches = [m for m in MODULES if m == name or
                   m.rsplit('.', 1)[-1] == name]
        if not matches:
            raise SystemExit('unknown benchmark module %r (have: %s)' % (
                name, ', '.join(MODULES)))
        chosen += matches
    return chosen


def main(argv):
    """Run the benchmark modules named in argv (all by default)."""
    modules = _selected(argv)
    report = Report()
    print('python %s on %s, %s CPUs' % (
        platform.python_version(), platform.machine(), os.cpu_count()))
    for name in modules:
        report.module = name
        print('running %s ...' % name, flush=True)
        try:
            importlib.import_module(name).run(report)
        except Exception:
            report.errors.append(name)
            print('%s did not finish:\n%s' % (name, traceback.format_exc()),
                  file=sys.stderr)
    print()
    print(report.table())
    if report.errors:
        print('\nmodules that did not finish: %s' % ', '.join(report.errors))
    if report.failed():
        print('\nFAILED: a target was missed by more than %gx or a module '
              'did not finish.' % MISS_TOLERANCE)
        return 1
    return 0
