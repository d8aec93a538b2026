# cmake -DFROM=DIR -DTO=DIR -P copy-guest-image.cmake: the guest image a sub-build made
# (runvm-initrd.img, runvm-initrd.release) and the uncompressed kernels it extracted
# (runvm-vmlinux-<release> with their .source stamps), copied into the main build tree.
file(COPY "${FROM}/runvm-initrd.img" "${FROM}/runvm-initrd.release" DESTINATION "${TO}")
file(GLOB _vmlinux "${FROM}/runvm-vmlinux-*")
if(_vmlinux)
  file(COPY ${_vmlinux} DESTINATION "${TO}")
endif()
