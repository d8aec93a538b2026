// Byte buffers for saved VM state (vmm/snapshot/README.md). A writer appends
// trivially copyable values; a reader takes them back with every read bounds-
// checked: a short or corrupt section fails the reader (ok() == false), never
// reads past its end.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace runvm::vmm::snapshot {

class StateWriter {
 public:
  template <typename T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    put_bytes({reinterpret_cast<const uint8_t*>(&v), sizeof(T)});
  }
  void put_bytes(std::span<const uint8_t> b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
  // A length-prefixed byte string.
  void put_blob(std::span<const uint8_t> b) {
    put<uint32_t>(static_cast<uint32_t>(b.size()));
    put_bytes(b);
  }
  void put_string(const std::string& s) {
    put_blob({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }
  const std::vector<uint8_t>& bytes() const { return buf_; }
  std::vector<uint8_t> take() { return std::move(buf_); }

 private:
  std::vector<uint8_t> buf_;
};

class StateReader {
 public:
  explicit StateReader(std::span<const uint8_t> data) : data_(data) {}

  template <typename T>
  bool get(T* v) {
    static_assert(std::is_trivially_copyable_v<T>);
    return get_bytes({reinterpret_cast<uint8_t*>(v), sizeof(T)});
  }
  bool get_bytes(std::span<uint8_t> out) {
    if (!ok_ || out.size() > data_.size() - pos_) return ok_ = false;
    if (!out.empty()) std::memcpy(out.data(), data_.data() + pos_, out.size());
    pos_ += out.size();
    return true;
  }
  // A length-prefixed byte string of at most `max` bytes.
  bool get_blob(std::vector<uint8_t>* out, uint32_t max) {
    uint32_t n = 0;
    if (!get(&n) || n > max || n > data_.size() - pos_) return ok_ = false;
    out->assign(data_.begin() + static_cast<long>(pos_),
                data_.begin() + static_cast<long>(pos_ + n));
    pos_ += n;
    return true;
  }
  bool get_string(std::string* out, uint32_t max) {
    std::vector<uint8_t> b;
    if (!get_blob(&b, max)) return false;
    out->assign(b.begin(), b.end());
    return true;
  }
  bool ok() const { return ok_; }
  // Everything read and nothing left over.
  bool finished() const { return ok_ && pos_ == data_.size(); }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace runvm::vmm::snapshot
