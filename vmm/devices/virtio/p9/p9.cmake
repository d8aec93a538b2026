# virtio-9p: 9P2000.L server over the virtio-fs FileSystem layer, and the device.
# Paths are relative to vmm/.
list(APPEND RUNVM_VMM_SOURCES
  devices/virtio/p9/p9_server.cpp
  devices/virtio/p9/p9_wire.cpp
  devices/virtio/p9/qid_paths.cpp
  devices/virtio/p9/virtio_9p.cpp
)
if(RUNVM_FUZZ)
  add_subdirectory(${CMAKE_CURRENT_LIST_DIR}/fuzz ${CMAKE_CURRENT_BINARY_DIR}/devices/virtio/p9/fuzz)
endif()
