# VMM core (KVM, the machine builder, x86-64 boot, legacy devices, PCI root, config
# space and MSI-X, runvm-vmm binary).
list(APPEND RUNVM_VMM_SOURCES
  kvm/kvm.cpp
  kvm/vcpu.cpp
  kvm/kvm_pci_services.cpp
  vm_stop.cpp
  machine/machine.cpp
  arch/x86_64/e820.cpp
  arch/x86_64/boot_params.cpp
  arch/x86_64/mptable.cpp
  arch/x86_64/acpi.cpp
  arch/x86_64/cpuid.cpp
  arch/x86_64/cpu_setup.cpp
  boot/kernel_image.cpp
  boot/mapped_file.cpp
  boot/linux_boot.cpp
  pci/pci_root.cpp
  pci/pci_config_space.cpp
  pci/msix.cpp
  devices/legacy/serial.cpp
  devices/legacy/console_log.cpp
  devices/legacy/i8042.cpp
  devices/legacy/cmos_rtc.cpp
  devices/device_manager.cpp
  jail/capabilities.cpp
  jail/fd_limits.cpp
  jail/jail.cpp
  jail/mount_jail.cpp
  jail/seccomp_filter.cpp
  main/flags.cpp
  snapshot/snapshot_file.cpp
  snapshot/vcpu_state.cpp
  snapshot/vm_state.cpp
  snapshot/memory_file.cpp
  snapshot/vm_snapshot.cpp
  main/terminal.cpp
)
# The jail's libseccomp and libcap as archives (found in the top CMakeLists.txt): the
# binary links statically.
list(APPEND RUNVM_VMM_LIBS CLI11::CLI11 ${RUNVM_LIBSECCOMP_A} ${RUNVM_LIBCAP_A})

# Static by default so the e2e test host needs no shared libraries; sanitizer
# builds cannot link statically.
option(RUNVM_STATIC_VMM "Link runvm-vmm statically" ON)

function(runvm_vmm_add_binary)
  add_executable(runvm-vmm main/main.cpp)
  target_link_libraries(runvm-vmm PRIVATE runvm_vmm CLI11::CLI11)
  if(RUNVM_STATIC_VMM AND NOT RUNVM_SANITIZE)
    target_link_options(runvm-vmm PRIVATE -static)
  endif()
  # Not on PATH: runvm starts it (runtime/vm/vm_settings.cpp finds it relative to runvm).
  install(TARGETS runvm-vmm RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/runvm)
endfunction()
