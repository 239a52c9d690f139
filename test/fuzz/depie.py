# Copy an ELF PIE executable and clear DF_1_PIE in its FLAGS_1 dynamic entry
# so that the dynamic loader accepts it as a shared-object dependency.
import struct, sys, shutil
src, dst = sys.argv[1], sys.argv[2]
shutil.copyfile(src, dst)
with open(dst, 'r+b') as f:
    data = bytearray(f.read())
    assert data[:4] == b'\x7fELF' and data[4] == 2  # 64-bit
    e_phoff, = struct.unpack_from('<Q', data, 0x20)
    e_phentsize, e_phnum = struct.unpack_from('<HH', data, 0x36)
    for i in range(e_phnum):
        off = e_phoff + i * e_phentsize
        p_type, = struct.unpack_from('<I', data, off)
        if p_type == 2:  # PT_DYNAMIC
            p_offset, = struct.unpack_from('<Q', data, off + 8)
            p_filesz, = struct.unpack_from('<Q', data, off + 32)
            for j in range(p_offset, p_offset + p_filesz, 16):
                tag, val = struct.unpack_from('<qQ', data, j)
                if tag == 0x6ffffffb:  # DT_FLAGS_1
                    struct.pack_into('<qQ', data, j, tag, val & ~0x08000000)
                    f.seek(0); f.write(data); sys.exit(0)
sys.exit("no DT_FLAGS_1")
