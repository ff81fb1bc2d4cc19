#include "daemon/store/detail/xor_chunk.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "daemon/model/sample.h"

namespace vigil::store::detail {
namespace {

struct Raw {
  int64_t t;
  uint64_t bits;
  friend bool operator==(const Raw&, const Raw&) = default;
};

std::vector<Raw> Decode(const XorChunk& chunk) {
  std::vector<Raw> out;
  XorChunk::Iterator it = chunk.Iter();
  while (it.Next()) out.push_back(Raw{it.t(), std::bit_cast<uint64_t>(it.v())});
  return out;
}

XorChunk Encode(const std::vector<Raw>& samples) {
  XorChunk chunk;
  for (const Raw& s : samples) chunk.Append(s.t, std::bit_cast<double>(s.bits));
  return chunk;
}

uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

TEST(XorChunkTest, EmptyChunkDecodesNothing) {
  XorChunk chunk;
  EXPECT_TRUE(chunk.empty());
  EXPECT_EQ(chunk.num_samples(), 0u);
  EXPECT_TRUE(chunk.bytes().empty());
  EXPECT_TRUE(Decode(chunk).empty());
}

TEST(XorChunkTest, MatchesPrometheusLayoutForFirstSamples) {
  XorChunk chunk;
  chunk.Append(1, 1.0);
  // zig-zag varint of 1 is 0x02, then 1.0's 64 bits, big-endian.
  const std::vector<uint8_t> first = {0x02, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(std::vector<uint8_t>(chunk.bytes().begin(), chunk.bytes().end()), first);
  chunk.Append(16, 1.0);
  // uvarint delta 15 (0x0f), then a single 0 bit for an unchanged value.
  const std::vector<uint8_t> second = {0x02, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x0f, 0x00};
  EXPECT_EQ(std::vector<uint8_t>(chunk.bytes().begin(), chunk.bytes().end()), second);
  chunk.Append(31, 1.0);
  // Delta-of-delta 0 and an unchanged value: bits "0 0" after the previous 0.
  EXPECT_EQ(chunk.bytes().size(), 11u);
  EXPECT_EQ(chunk.min_t(), 1);
  EXPECT_EQ(chunk.max_t(), 31);
  EXPECT_EQ(chunk.num_samples(), 3u);
}

TEST(XorChunkTest, RegularSeriesCompressesBelowTwoBytesPerSample) {
  XorChunk chunk;
  for (int i = 0; i < 120; ++i) chunk.Append(1'700'000'000'000 + i * 15'000, 42.0);
  chunk.Seal();
  // 6-byte varint timestamp + 8-byte value, a 2-byte delta, then 1 bit for the
  // second value and 2 bits (timestamp, value) for each of the other 118.
  EXPECT_EQ(chunk.bytes().size(), 6u + 8u + 2u + 30u);
  EXPECT_EQ(chunk.capacity_bytes(), chunk.bytes().size());
}

TEST(XorChunkTest, EdgeValuesRoundTripBitExact) {
  const std::vector<double> values = {
      0.0,
      -0.0,
      std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(),
      std::numeric_limits<double>::quiet_NaN(),
      std::bit_cast<double>(uint64_t{0xfff8000000000001ULL}),  // NaN with payload, sign set
      model::StaleNaN(),
      std::numeric_limits<double>::denorm_min(),
      std::numeric_limits<double>::max(),
      std::numeric_limits<double>::lowest(),
      std::numeric_limits<double>::min(),
      1.0,
      1.0,
      -1.5,
      model::StaleNaN(),
      model::StaleNaN(),
      3.0,
  };
  std::vector<Raw> samples;
  for (size_t i = 0; i < values.size(); ++i) {
    samples.push_back(Raw{static_cast<int64_t>(i) * 1000, Bits(values[i])});
  }
  EXPECT_EQ(Decode(Encode(samples)), samples);
}

TEST(XorChunkTest, StaleMarkerKeepsItsExactBits) {
  XorChunk chunk;
  chunk.Append(0, 1.0);
  chunk.Append(15'000, model::StaleNaN());
  std::vector<Raw> decoded = Decode(chunk);
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[1].bits, model::kStaleNaNBits);
  EXPECT_TRUE(model::IsStaleNaN(std::bit_cast<double>(decoded[1].bits)));
  EXPECT_EQ(chunk.last_value_bits(), model::kStaleNaNBits);
}

TEST(XorChunkTest, ExtremeAndNegativeTimestampsRoundTrip) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const std::vector<Raw> samples = {
      {kMin, Bits(1.0)},
      {kMin + 1, Bits(2.0)},
      {-1'000'000, Bits(3.0)},  // jump of ~2^63: delta-of-delta in the 64-bit bucket
      {-1, Bits(4.0)},
      {0, Bits(5.0)},
      {0, Bits(5.0)},     // a zero delta right after a non-zero one
      {8191, Bits(6.0)},  // dod at the 14-bit bucket edge (2^13)
      {8191 + 8191 + 8192, Bits(7.0)},
      {kMax - 1, Bits(8.0)},
      {kMax, Bits(9.0)},
  };
  EXPECT_EQ(Decode(Encode(samples)), samples);
}

TEST(XorChunkTest, DeltaOfDeltaBucketBoundariesRoundTrip) {
  // Timestamps whose delta-of-delta hits each bucket's limits on both sides.
  std::vector<int64_t> dods = {0, 1, -1};
  for (int bits : {14, 17, 20}) {
    const int64_t edge = int64_t{1} << (bits - 1);
    for (int64_t d : {edge, edge + 1, -(edge - 1), -edge, -(edge + 1)}) dods.push_back(d);
  }
  std::vector<Raw> samples = {{0, Bits(0.0)}, {10'000'000, Bits(1.0)}};
  int64_t delta = 10'000'000;
  for (int64_t dod : dods) {
    delta += dod;
    samples.push_back(Raw{samples.back().t + delta, Bits(static_cast<double>(delta))});
  }
  EXPECT_EQ(Decode(Encode(samples)), samples);
}

TEST(XorChunkTest, RandomSamplesRoundTrip) {
  std::mt19937_64 rng(20261128);
  for (int round = 0; round < 200; ++round) {
    std::vector<Raw> samples;
    int64_t t = static_cast<int64_t>(rng()) >> (rng() % 64);
    const size_t n = 1 + rng() % 300;
    for (size_t i = 0; i < n; ++i) {
      uint64_t bits;
      switch (rng() % 4) {
        case 0:
          bits = rng();
          break;  // any pattern, NaNs too
        case 1:
          bits = Bits(static_cast<double>(rng() % 100));
          break;  // small integers
        case 2:
          bits = samples.empty() ? 0 : samples.back().bits ^ (rng() & 0xff0);
          break;
        default:
          bits = Bits(std::ldexp(static_cast<double>(rng() % 1000), -10));
          break;
      }
      samples.push_back(Raw{t, bits});
      const uint64_t step = rng() % 3 == 0 ? rng() >> (rng() % 64) : 15'000 + rng() % 50;
      t = static_cast<int64_t>(static_cast<uint64_t>(t) + step);  // wraps like the encoder
    }
    ASSERT_EQ(Decode(Encode(samples)), samples) << "round " << round;
  }
}

}  // namespace
}  // namespace vigil::store::detail
