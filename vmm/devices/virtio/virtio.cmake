# virtio core, transport and devices (owned by the virtio area). Paths are relative to vmm/.
list(APPEND RUNVM_VMM_SOURCES
  devices/virtio/queue.cpp
)
