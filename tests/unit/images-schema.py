#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Compare our images/*.proto (compiled to a FileDescriptorSet by protoc-c)
# with the schemas Debian's pycriu was built from: every message and enum
# both define must agree on field numbers, types, labels and defaults.
# Differences are allowed only where listed below (fields CRIU added after
# the pycriu release, renames, and other-architecture fields we leave out).
#
# usage: images-schema.py OURS.pb   (prints TAP)
import importlib
import os
import sys

sys.path.insert(0, '/usr/lib/python3/dist-packages')
from google.protobuf import descriptor_pb2  # noqa: E402

# Fields newer than the pycriu we compare with: (message, number).
ADDED = {
    ('inventory_entry', 12), ('inventory_entry', 13), ('inventory_entry', 14),
    ('plugins_entry', 12),
    ('task_core_entry', 21), ('task_core_entry', 22),
    ('thread_core_entry', 16),
    ('creds_entry', 18), ('creds_entry', 19),  # CRIU 4.x: no_new_privs, cap_amb
    ('pagemap_entry', 5),
    ('file_entry', 22),
    ('cg_controller_entry', 3),
    ('sk_packet_entry', 128),
    ('sk_ucred_entry', 1), ('sk_ucred_entry', 2), ('sk_ucred_entry', 3),
    ('pidfd_entry', 1), ('pidfd_entry', 2), ('pidfd_entry', 3),
    ('pidfd_entry', 4), ('pidfd_entry', 5),
    ('criu_opts', 66), ('criu_opts', 67), ('criu_opts', 68),
    ('criu_opts', 69), ('criu_opts', 70), ('criu_opts', 71),
}
# Enum values newer than pycriu: (enum, name).
ADDED_ENUM = {
    ('march', 'LOONGARCH64'), ('march', 'RISCV64'),
    ('fd_types', 'PIDFD'),
    ('criu_network_lock_method', 'SKIP'),
}
# Same number, other name: (message, number) -> (theirs, ours).
RENAMED = {
    ('pagemap_entry', 2): ('nr_pages', 'compat_nr_pages'),
}
# Defaults CRIU set after the pycriu release: (message, number).
NEW_DEFAULT = {('criu_opts', 1)}
# Fields we deliberately leave out (other architectures).
OMITTED = {('core_entry', n) for n in (6, 8, 9, 10, 11, 12, 13)}

LABEL = {1: 'optional', 2: 'required', 3: 'repeated'}


def type_name(f):
    if f.type_name:
        return f.type_name.lstrip('.')
    return descriptor_pb2.FieldDescriptorProto.Type.Name(f.type)


def collect(fds):
    msgs, enums = {}, {}

    def walk_msg(m, prefix):
        name = prefix + m.name
        msgs[name] = m
        for e in m.enum_type:
            enums[name + '.' + e.name] = e
        for n in m.nested_type:
            walk_msg(n, name + '.')

    for fd in fds.file:
        for m in fd.message_type:
            walk_msg(m, '')
        for e in fd.enum_type:
            enums[e.name] = e
    return msgs, enums


def pycriu_set():
    import pycriu.images as images
    d = os.path.dirname(images.__file__)
    fds = descriptor_pb2.FileDescriptorSet()
    seen = set()
    mods = ['pycriu.images.' + f[:-3] for f in sorted(os.listdir(d))
            if f.endswith('_pb2.py')] + ['pycriu.rpc_pb2']
    for mod in mods:
        m = importlib.import_module(mod)
        if m.DESCRIPTOR.name in seen:
            continue
        seen.add(m.DESCRIPTOR.name)
        p = descriptor_pb2.FileDescriptorProto()
        m.DESCRIPTOR.CopyToProto(p)
        fds.file.append(p)
    return fds


def main():
    ours = descriptor_pb2.FileDescriptorSet()
    with open(sys.argv[1], 'rb') as fp:
        ours.ParseFromString(fp.read())
    o_msgs, o_enums = collect(ours)
    t_msgs, t_enums = collect(pycriu_set())

    results = []
    for name in sorted(o_msgs):
        short = name.split('.')[-1]
        errs = []
        mine = {f.number: f for f in o_msgs[name].field}
        theirs = {f.number: f for f in t_msgs[name].field} if name in t_msgs else {}
        if name not in t_msgs:
            for n in mine:
                if (short, n) not in ADDED:
                    errs.append('field %d (%s) is not in pycriu' % (n, mine[n].name))
        for n, tf in sorted(theirs.items()):
            if n not in mine:
                if (short, n) not in OMITTED:
                    errs.append('missing field %d (%s)' % (n, tf.name))
                continue
            of = mine[n]
            if (short, n) in RENAMED:
                if (tf.name, of.name) != RENAMED[(short, n)]:
                    errs.append('field %d: unexpected names %s/%s' % (n, tf.name, of.name))
            elif tf.name != of.name and not (short == 'user_desc_t' and n == 10):
                errs.append('field %d: name %s, pycriu %s' % (n, of.name, tf.name))
            if type_name(tf) != type_name(of):
                errs.append('field %d (%s): type %s, pycriu %s' %
                            (n, of.name, type_name(of), type_name(tf)))
            if tf.label != of.label:
                errs.append('field %d (%s): %s, pycriu %s' %
                            (n, of.name, LABEL[of.label], LABEL[tf.label]))
            if tf.default_value != of.default_value and (short, n) not in NEW_DEFAULT:
                errs.append('field %d (%s): default %r, pycriu %r' %
                            (n, of.name, of.default_value, tf.default_value))
            if tf.options.packed != of.options.packed:
                errs.append('field %d (%s): packed differs' % (n, of.name))
        for n, of in sorted(mine.items()):
            if n not in theirs and name in t_msgs and (short, n) not in ADDED:
                errs.append('field %d (%s) is not in pycriu' % (n, of.name))
        results.append(('message ' + name, errs))

    for name in sorted(o_enums):
        short = name.split('.')[-1]
        errs = []
        mine = {v.name: v.number for v in o_enums[name].value}
        theirs = {v.name: v.number for v in t_enums[name].value} if name in t_enums else None
        if theirs is None:
            errs.append('enum not in pycriu')
        else:
            for k, v in theirs.items():
                if mine.get(k) != v:
                    errs.append('%s = %s, pycriu %d' % (k, mine.get(k), v))
            for k in mine:
                if k not in theirs and (short, k) not in ADDED_ENUM:
                    errs.append('%s is not in pycriu' % k)
        results.append(('enum ' + name, errs))

    print('1..%d' % len(results))
    failed = 0
    for i, (what, errs) in enumerate(results, 1):
        if errs:
            failed += 1
            print('not ok %d - %s' % (i, what))
            for e in errs:
                print('#   ' + e)
        else:
            print('ok %d - %s' % (i, what))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
