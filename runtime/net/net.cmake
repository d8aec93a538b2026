# runtime/net: the container's network on the host side (tap, tc redirect, the
# guest's configuration). Included by runtime/CMakeLists.txt.
target_sources(runvm_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/attach_plan.cpp
  ${CMAKE_CURRENT_LIST_DIR}/net_attach.cpp
  ${CMAKE_CURRENT_LIST_DIR}/net_snapshot.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tap_device.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tc_redirect.cpp
)
# libnl: headers via runtime/CMakeLists.txt, the library with each binary (runvm_runtime_libs).
