#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "daemon/model/sample.h"

namespace vigil::store::detail {

// XorChunk holds up to a few hundred samples of one series, Gorilla-encoded in
// the bit layout of Prometheus's tsdb/chunkenc/xor.go: the first timestamp as
// a zig-zag varint and the first value as 64 raw bits, the second timestamp as
// an unsigned varint delta, then delta-of-delta timestamps in 1/14/17/20/64-bit
// buckets and XOR-compressed values. Encoding is bit-exact for every double
// (NaN payloads, the stale marker, -0.0, infinities) and for every int64
// timestamp, huge jumps and negative values included (delta arithmetic wraps
// modulo 2^64 on both sides). Timestamps must be appended in non-decreasing
// order for min_t()/max_t() to mean what they say; the encoding itself does not
// care. Not thread-safe: the owner serialises access. Never fails.
class XorChunk {
 public:
  static constexpr size_t kMaxSamples = UINT16_MAX;
  // Adds one sample. Precondition: num_samples() < kMaxSamples.
  void Append(int64_t t, double v);
  // Releases unused buffer capacity; call once the chunk is full.
  void Seal() { bytes_.shrink_to_fit(); }

  size_t num_samples() const { return num_samples_; }
  bool empty() const { return num_samples_ == 0; }
  // First and last timestamps; meaningful only when !empty().
  int64_t min_t() const { return min_t_; }
  int64_t max_t() const { return t_; }
  // The last appended value's bits (the XOR reference), when !empty().
  uint64_t last_value_bits() const { return v_bits_; }
  std::span<const uint8_t> bytes() const { return bytes_; }
  // Heap bytes held by the encoded stream.
  size_t capacity_bytes() const { return bytes_.capacity(); }

  // Iterator decodes the chunk front to back. It refers to the chunk's buffer:
  // appending to the chunk invalidates it.
  class Iterator {
   public:
    explicit Iterator(const XorChunk& chunk) : data_(chunk.bytes_), count_(chunk.num_samples_) {}
    // Advances to the next sample; false once all samples have been read.
    bool Next();
    int64_t t() const { return t_; }
    double v() const { return std::bit_cast<double>(v_bits_); }

   private:
    friend class XorChunk;
    // Next()'s body, inlined into DecodeWindow's loop.
    [[gnu::always_inline]] inline bool Advance();
    // Bits are consumed from the top of buf_, which holds avail_ stream bits
    // (bits below them are either zero or the stream's next bits).
    void Refill();
    // Reads n <= 56 bits (0 reads nothing).
    uint64_t ReadBits(int n) {
      if (avail_ < n) Refill();
      const uint64_t value = n == 0 ? 0 : buf_ >> (64 - n);
      Consume(n);
      return value;
    }
    // Reads 32 < n <= 64 bits.
    uint64_t ReadWideBits(int n) {
      const uint64_t high = ReadBits(n - 32);
      return high << 32 | ReadBits(32);
    }
    // Drops n <= 56 bits.
    void Consume(int n) {
      buf_ <<= n;
      avail_ = avail_ > n ? avail_ - n : 0;  // a truncated stream reads zeros
    }
    uint64_t ReadUvarint();

    std::span<const uint8_t> data_;
    size_t pos_ = 0;  // the next byte of data_ to load into buf_
    uint64_t buf_ = 0;
    int avail_ = 0;
    size_t count_;
    size_t read_ = 0;
    int64_t t_ = 0;
    uint64_t t_delta_ = 0;
    uint64_t v_bits_ = 0;
    uint8_t leading_ = 0;
    uint8_t trailing_ = 0;
  };
  Iterator Iter() const { return Iterator(*this); }

  // Decodes the samples with mint <= t <= maxt onto the end of `out`: the
  // bulk form of Iter(), with the decoder inlined into one loop.
  void DecodeWindow(int64_t mint, int64_t maxt, std::vector<model::Sample>& out) const;

 private:
  void WriteBits(uint64_t value, int n);
  void WriteBit(bool bit) { WriteBits(bit ? 1 : 0, 1); }
  void WriteUvarint(uint64_t value);
  void WriteValue(uint64_t bits);

  std::vector<uint8_t> bytes_;
  int64_t min_t_ = 0;
  int64_t t_ = 0;         // last timestamp
  uint64_t t_delta_ = 0;  // last timestamp delta, modulo 2^64
  uint64_t v_bits_ = 0;   // last value's bits
  uint16_t num_samples_ = 0;
  uint8_t free_bits_ = 0;   // unused low bits in bytes_.back()
  uint8_t leading_ = 0xff;  // leading zeros of the current XOR window; 0xff = none yet
  uint8_t trailing_ = 0;
};

}  // namespace vigil::store::detail
