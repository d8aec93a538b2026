# runtime/pod: Kubernetes pods, one microVM per pod (issue 14). Included by
# runtime/CMakeLists.txt.
target_sources(runvm_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/mount_injection.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pod_member.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pod_plan.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pod_role.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pod_sizing.cpp
)
