# virtio core, transport and devices (owned by the virtio area). Paths are relative to vmm/.
list(APPEND RUNVM_VMM_SOURCES
  devices/virtio/queue.cpp
  devices/virtio/chain_buffers.cpp
)
list(APPEND RUNVM_VMM_SOURCES
  devices/virtio/transport/virtio_pci.cpp
)
list(APPEND RUNVM_VMM_SOURCES
  devices/virtio/rng/rng.cpp
  devices/pvpanic/pvpanic_pci.cpp
)
list(APPEND RUNVM_VMM_SOURCES
  devices/pci_devices.cpp
)
list(APPEND RUNVM_VMM_SOURCES
  devices/virtio/vsock/packet.cpp
  devices/virtio/vsock/connection.cpp
  devices/virtio/vsock/muxer.cpp
  devices/virtio/vsock/vsock.cpp
)
list(APPEND RUNVM_VMM_SOURCES
  devices/virtio/net/net_header.cpp
  devices/virtio/net/virtio_net.cpp
  devices/virtio/net/net_tx.cpp
  devices/virtio/net/net_rx.cpp
)
