#include "daemon/store/detail/xor_chunk.h"

#include <bit>
#include <cstring>

namespace vigil::store::detail {
namespace {

constexpr size_t kInitialCapacity = 32;

// True when `x` fits the n-bit delta-of-delta bucket of xor.go's bitRange().
bool FitsBits(int64_t x, int n) {
  return -((int64_t{1} << (n - 1)) - 1) <= x && x <= (int64_t{1} << (n - 1));
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

int64_t UnZigZag(uint64_t u) { return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1); }

}  // namespace

void XorChunk::WriteBits(uint64_t value, int n) {
  while (n > 0) {
    if (free_bits_ == 0) {
      bytes_.push_back(0);
      free_bits_ = 8;
    }
    const int take = n < free_bits_ ? n : free_bits_;
    const auto part = static_cast<uint8_t>((value >> (n - take)) & ((1u << take) - 1));
    bytes_.back() = static_cast<uint8_t>(bytes_.back() | (part << (free_bits_ - take)));
    free_bits_ = static_cast<uint8_t>(free_bits_ - take);
    n -= take;
  }
}

void XorChunk::WriteUvarint(uint64_t value) {
  while (value >= 0x80) {
    WriteBits((value & 0x7f) | 0x80, 8);
    value >>= 7;
  }
  WriteBits(value, 8);
}

void XorChunk::WriteValue(uint64_t bits) {
  const uint64_t delta = bits ^ v_bits_;
  if (delta == 0) {
    WriteBit(false);
    return;
  }
  WriteBit(true);
  auto leading = static_cast<uint8_t>(std::countl_zero(delta));
  const auto trailing = static_cast<uint8_t>(std::countr_zero(delta));
  if (leading >= 32) leading = 31;  // the leading count has 5 bits
  if (leading_ != 0xff && leading >= leading_ && trailing >= trailing_) {
    WriteBit(false);
    WriteBits(delta >> trailing_, 64 - leading_ - trailing_);
    return;
  }
  leading_ = leading;
  trailing_ = trailing;
  WriteBit(true);
  WriteBits(leading, 5);
  const int significant = 64 - leading - trailing;
  WriteBits(static_cast<uint64_t>(significant), 6);  // 64 is written as 0
  WriteBits(delta >> trailing, significant);
}

void XorChunk::Append(int64_t t, double v) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  uint64_t t_delta = 0;
  if (num_samples_ == 0) {
    bytes_.reserve(kInitialCapacity);
    WriteUvarint(ZigZag(t));
    WriteBits(bits, 64);
    min_t_ = t;
  } else {
    t_delta = static_cast<uint64_t>(t) - static_cast<uint64_t>(t_);
    if (num_samples_ == 1) {
      WriteUvarint(t_delta);
    } else {
      const auto dod = static_cast<int64_t>(t_delta - t_delta_);
      if (dod == 0) {
        WriteBit(false);
      } else if (FitsBits(dod, 14)) {
        WriteBits(0b10, 2);
        WriteBits(static_cast<uint64_t>(dod), 14);
      } else if (FitsBits(dod, 17)) {
        WriteBits(0b110, 3);
        WriteBits(static_cast<uint64_t>(dod), 17);
      } else if (FitsBits(dod, 20)) {
        WriteBits(0b1110, 4);
        WriteBits(static_cast<uint64_t>(dod), 20);
      } else {
        WriteBits(0b1111, 4);
        WriteBits(static_cast<uint64_t>(dod), 64);
      }
    }
    WriteValue(bits);
  }
  t_ = t;
  t_delta_ = t_delta;
  v_bits_ = bits;
  ++num_samples_;
}

void XorChunk::Iterator::Refill() {
  if (pos_ + 8 <= data_.size()) {
    // One big-endian load; the whole bytes that fit below the avail_ bits
    // count, the partial one is loaded again (same bits) by the next refill.
    uint64_t word;
    std::memcpy(&word, data_.data() + pos_, sizeof(word));
    if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap64(word);
    buf_ |= word >> avail_;
    const int bytes = (63 - avail_) >> 3;
    pos_ += static_cast<size_t>(bytes);
    avail_ += bytes * 8;
    return;
  }
  while (avail_ <= 56 && pos_ < data_.size()) {
    buf_ |= uint64_t{data_[pos_++]} << (56 - avail_);
    avail_ += 8;
  }
}

uint64_t XorChunk::Iterator::ReadUvarint() {
  uint64_t value = 0;
  for (int shift = 0;; shift += 7) {
    const uint64_t byte = ReadBits(8);
    value |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
}

bool XorChunk::Iterator::Advance() {
  if (read_ == count_) return false;
  if (read_ == 0) {
    t_ = UnZigZag(ReadUvarint());
    v_bits_ = ReadWideBits(64);
    ++read_;
    return true;
  }
  if (read_ == 1) {
    t_delta_ = ReadUvarint();
  } else {
    // Up to 4 leading 1 bits, ended by a 0 unless there are 4.
    if (avail_ < 4) Refill();
    const int ones = std::countl_one(buf_);
    const int prefix = ones < 4 ? ones : 4;
    Consume(prefix < 4 ? prefix + 1 : 4);
    int64_t dod = 0;
    if (prefix == 4) {
      dod = static_cast<int64_t>(ReadWideBits(64));
    } else if (prefix > 0) {
      static constexpr int kWidths[] = {0, 14, 17, 20};
      const int width = kWidths[prefix];
      const uint64_t raw = ReadBits(width);
      dod = static_cast<int64_t>(raw);
      if (raw > (uint64_t{1} << (width - 1))) dod -= int64_t{1} << width;
    }
    t_delta_ += static_cast<uint64_t>(dod);
  }
  t_ = static_cast<int64_t>(static_cast<uint64_t>(t_) + t_delta_);
  if (avail_ < 2 + 5 + 6) Refill();
  if (ReadBits(1) != 0) {
    if (ReadBits(1) != 0) {
      leading_ = static_cast<uint8_t>(ReadBits(5));
      int significant = static_cast<int>(ReadBits(6));
      if (significant == 0) significant = 64;
      trailing_ = static_cast<uint8_t>(64 - leading_ - significant);
    }
    const int significant = 64 - leading_ - trailing_;
    const uint64_t bits = significant > 56 ? ReadWideBits(significant) : ReadBits(significant);
    v_bits_ ^= bits << trailing_;
  }
  ++read_;
  return true;
}

bool XorChunk::Iterator::Next() { return Advance(); }

void XorChunk::DecodeWindow(int64_t mint, int64_t maxt, std::vector<model::Sample>& out) const {
  Iterator it(*this);
  while (it.Advance()) {
    if (it.t() < mint) continue;
    if (it.t() > maxt) break;
    out.push_back(model::Sample{it.t(), it.v()});
  }
}

}  // namespace vigil::store::detail
