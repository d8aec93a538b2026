# runtime/vm: the microVM behind each container (supervisor, control socket,
# VM settings). Included by runtime/CMakeLists.txt.
target_sources(runvm_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/console_socket.cpp
  ${CMAKE_CURRENT_LIST_DIR}/control.cpp
  ${CMAKE_CURRENT_LIST_DIR}/exec_session.cpp
  ${CMAKE_CURRENT_LIST_DIR}/host_cgroup.cpp
  ${CMAKE_CURRENT_LIST_DIR}/host_namespaces.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kernel_release.cpp
  ${CMAKE_CURRENT_LIST_DIR}/launch_supervisor.cpp
  ${CMAKE_CURRENT_LIST_DIR}/supervisor_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mountpoints.cpp
  ${CMAKE_CURRENT_LIST_DIR}/net_cleanup.cpp
  ${CMAKE_CURRENT_LIST_DIR}/oom_score_adj.cpp
  ${CMAKE_CURRENT_LIST_DIR}/start_trace.cpp
  ${CMAKE_CURRENT_LIST_DIR}/supervisor.cpp
  ${CMAKE_CURRENT_LIST_DIR}/uncompressed_kernel.cpp
  ${CMAKE_CURRENT_LIST_DIR}/vm_layout.cpp
  ${CMAKE_CURRENT_LIST_DIR}/vm_settings.cpp
  ${CMAKE_CURRENT_LIST_DIR}/vm_sizing.cpp
  ${CMAKE_CURRENT_LIST_DIR}/vm_teardown.cpp
  ${CMAKE_CURRENT_LIST_DIR}/vm_template.cpp
  ${CMAKE_CURRENT_LIST_DIR}/volumes.cpp
  ${CMAKE_CURRENT_LIST_DIR}/vsock_connect.cpp
)
target_link_libraries(runvm_runtime PUBLIC runvm_agent)
