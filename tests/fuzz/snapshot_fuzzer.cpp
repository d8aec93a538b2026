// libFuzzer target: a snapshot's state file as runvm-vmm --restore reads it
// (vmm/snapshot/README.md): the section codec, then every section through the
// decoders of the VM, vCPU and legacy-device state. The file is runvm's own, not
// the guest's, but a damaged one must be an error, never a crash. Checks: a
// decoded file re-encodes to the same bytes; decoders never read past a section;
// a legacy device takes back a record exactly when it is long enough.
#include <cstdint>
#include <cstring>
#include <vector>

#define FUZZ_TARGET "snapshot_fuzzer"
#include "tests/fuzz/fuzz_input.h"
#include "vmm/devices/legacy/cmos_rtc.h"
#include "vmm/devices/legacy/i8042.h"
#include "vmm/devices/legacy/serial.h"
#include "vmm/snapshot/snapshot_file.h"
#include "vmm/snapshot/state_buffer.h"
#include "vmm/snapshot/vcpu_state.h"
#include "vmm/snapshot/vm_state.h"

using namespace runvm::vmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  // Half the inputs as a whole file, half as sections wrapped in a valid file, so the
  // decoders behind the checksum get exercised too.
  auto sections = snapshot::decode_sections(bytes);
  if (sections) {
    FUZZ_CHECK(snapshot::encode_sections(*sections) == bytes);
  } else {
    snapshot::Sections s;
    size_t at = 0, i = 0;
    while (at < size && i < 8) {
      size_t n = std::min<size_t>(data[at], size - at - 1);
      s["s" + std::to_string(i++)] = std::vector<uint8_t>(data + at + 1, data + at + 1 + n);
      at += 1 + n;
    }
    auto back = snapshot::decode_sections(snapshot::encode_sections(s));
    FUZZ_CHECK(back && *back == s);
    sections = std::move(back);
  }
  for (const auto& [name, sec] : *sections) {
    {
      snapshot::StateReader r(sec);
      snapshot::VcpuState v;
      (void)snapshot::decode_vcpu(r, &v);
      FUZZ_CHECK(v.msrs.size() <= 4096);
    }
    {
      snapshot::StateReader r(sec);
      snapshot::VmState v;
      (void)snapshot::decode_vm(r, &v);
    }
    {
      Serial8250 serial([](bool) {}, -1);
      snapshot::StateReader r(sec);
      bool ok = serial.restore_state(r);
      FUZZ_CHECK(ok == (sec.size() >= 8));
    }
    {
      I8042 kbd([] {});
      snapshot::StateReader r(sec);
      bool ok = kbd.restore_state(r);
      FUZZ_CHECK(ok == (sec.size() >= 4));
      snapshot::StateWriter w;
      kbd.save_state(w);
      FUZZ_CHECK(w.bytes().size() == 4);
    }
    {
      CmosRtc cmos;
      snapshot::StateReader r(sec);
      (void)cmos.restore_state(r);
    }
  }
  return 0;
}
