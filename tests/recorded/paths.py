# Copyright 2024 The nova-powervm authors.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""Compare XML objects by element paths and sibling order.

A path is the slash-joined local names from an object's root down to an
element, root excluded: 'PartitionMemoryConfiguration/DesiredMemory'.
Namespaces and attributes are ignored, so the simulator's XML can be held
against real XML whatever prefixes either side uses.
"""

import dataclasses
import itertools

from tests.recorded import recordings

SEPARATOR = '/'
# The parent path of an object root's own children.
ROOT_PATH = ''

_TABLE_HEADER = ('type', 'real paths', 'covered', 'ratio', 'missing')


def _join(parent_path, name):
    return parent_path + SEPARATOR + name if parent_path else name


def _element_children(element):
    # Comments and processing instructions have non-string tags.
    return [child for child in element if isinstance(child.tag, str)]


def iter_element_paths(element, parent_path=ROOT_PATH):
    """Yield the path of every element under element, in document order.

    A path shared by several elements is yielded once per element.
    """
    for child in _element_children(element):
        path = _join(parent_path, recordings.local_name(child))
        yield path
        yield from iter_element_paths(child, path)


def element_paths(element):
    """The set of element paths under element, intermediate ones included."""
    return set(iter_element_paths(element))


def nested_objects(element, child_path):
    """Elements found at child_path (slash-joined local names) under element.

    Objects of one type nested inside another (LogicalUnit inside a
    SharedStoragePool's LogicalUnits, VirtualDisk inside a VolumeGroup's
    VirtualDisks) are found this way.
    """
    found = [element]
    for name in child_path.split(SEPARATOR):
        found = [child for parent in found
                 for child in _element_children(parent)
                 if recordings.local_name(child) == name]
    return found


def _unique_in_order(paths):
    return list(dict.fromkeys(paths))


def _objects_of_type(interactions, resource_type):
    for interaction in interactions:
        for found_type, element in recordings.iter_atom_objects(
                interaction.response_body):
            if found_type == resource_type:
                yield element


def collect_paths(interactions, resource_type):
    """Union of the paths of every top-level object of resource_type.

    Looks at the response bodies of all interactions and returns the paths
    without repeats, in the order first seen.
    """
    return _unique_in_order(itertools.chain.from_iterable(
        iter_element_paths(element)
        for element in _objects_of_type(interactions, resource_type)))


def collect_nested_paths(interactions, container_type, child_path, as_type):
    """Union of the paths of objects nested in objects of container_type.

    The nested objects are the as_type elements under child_path in each
    container, e.g. ('SharedStoragePool', 'LogicalUnits', 'LogicalUnit');
    an empty child_path means the container's direct children.  Paths are
    relative to each nested object, without repeats, in the order first
    seen.
    """
    nested_path = _join(child_path, as_type)
    return _unique_in_order(itertools.chain.from_iterable(
        iter_element_paths(nested)
        for container in _objects_of_type(interactions, container_type)
        for nested in nested_objects(container, nested_path)))


@dataclasses.dataclass(frozen=True)
class Coverage:
    """How many real paths the simulator produces, and which it lacks."""

    real_count: int
    covered_count: int
    missing: tuple
    extra: tuple

    @property
    def ratio(self):
        """Fraction of real paths the simulator has (1.0 if none are real)."""
        if not self.real_count:
            return 1.0
        return self.covered_count / self.real_count


def coverage(real_paths, sim_paths):
    """Compare the real paths of a type with the simulator's."""
    real = set(real_paths)
    sim = set(sim_paths)
    return Coverage(real_count=len(real),
                    covered_count=len(real & sim),
                    missing=tuple(sorted(real - sim)),
                    extra=tuple(sorted(sim - real)))


def _first_positions(element):
    """Local name -> index of its first occurrence among the children."""
    positions = {}
    for index, child in enumerate(_element_children(element)):
        positions.setdefault(recordings.local_name(child), index)
    return positions


def _sibling_orders(element, parent_path=ROOT_PATH, orders=None):
    """(parent_path, a, b) for each pair of sibling tags where a precedes b.

    Compared by first occurrence, pooled over every element sharing a
    parent path.
    """
    if orders is None:
        orders = set()
    positions = _first_positions(element)
    for first, second in itertools.permutations(positions, 2):
        if positions[first] < positions[second]:
            orders.add((parent_path, first, second))
    for child in _element_children(element):
        child_path = _join(parent_path, recordings.local_name(child))
        _sibling_orders(child, child_path, orders)
    return orders


def order_disagreements(real_element, sim_element):
    """Sibling tags that the simulator orders unlike the real document.

    Returns sorted (parent_path, tag_a, tag_b) where real XML puts tag_a
    before tag_b under parent_path and the simulator puts tag_b before
    tag_a.  Tags missing from either side are not compared, and neither
    are pairs the real document itself orders both ways.
    """
    real_orders = _sibling_orders(real_element)
    sim_orders = _sibling_orders(sim_element)
    return sorted(
        (parent, first, second)
        for parent, first, second in real_orders
        if (parent, second, first) in sim_orders
        and (parent, second, first) not in real_orders)


def _ratio_text(result):
    return '%.1f%%' % (result.ratio * 100)


def format_table(rows):
    """A plain-text table of (type name, Coverage) rows."""
    cells = [_TABLE_HEADER]
    cells.extend((name, str(result.real_count), str(result.covered_count),
                  _ratio_text(result), str(len(result.missing)))
                 for name, result in rows)
    widths = [max(len(row[column]) for row in cells)
              for column in range(len(_TABLE_HEADER))]

    def render(row):
        # Names read left to right, numbers line up on the right.
        texts = [row[0].ljust(widths[0])]
        texts.extend(cell.rjust(width) for cell, width
                     in zip(row[1:], widths[1:], strict=True))
        return '  '.join(texts).rstrip()

    rule = '  '.join('-' * width for width in widths)
    return '\n'.join([render(cells[0]), rule]
                     + [render(row) for row in cells[1:]]) + '\n'
