# virtio-fs: FUSE server, filesystems and the device (owned by the fs area).
# Paths are relative to vmm/.
list(APPEND RUNVM_VMM_SOURCES
  devices/virtio/fs/cache_policy.cpp
  devices/virtio/fs/fuse_server.cpp
  devices/virtio/fs/inode_table.cpp
  devices/virtio/fs/open_share.cpp
  devices/virtio/fs/passthrough_fs.cpp
  devices/virtio/fs/passthrough_io.cpp
  devices/virtio/fs/read_only_fs.cpp
  devices/virtio/fs/request_stats.cpp
  devices/virtio/fs/request_workers.cpp
  devices/virtio/fs/share_policy.cpp
  devices/virtio/fs/virtio_fs.cpp
)
if(RUNVM_FUZZ)
  add_subdirectory(${CMAKE_CURRENT_LIST_DIR}/fuzz ${CMAKE_CURRENT_BINARY_DIR}/devices/virtio/fs/fuzz)
endif()
