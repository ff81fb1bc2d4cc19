#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/util/result.h"

namespace vigil::config {

// Parses a byte size the way Prometheus's `body_size_limit` does (alecthomas
// units.ParseBase2Bytes): one or more `<number><unit>` terms, numbers may have
// a fraction ("1.5GB"), units B, KB/KiB, MB/MiB, GB/GiB, TB/TiB, PB/PiB, EB/EiB,
// all powers of 1024 (KB == KiB). "0" alone is allowed. Fails with
// `not a valid byte size: "<text>"` or `byte size out of range: "<text>"`.
util::Result<uint64_t> ParseByteSize(std::string_view text);

// Formats with the largest binary unit that divides the value: 10485760 ->
// "10MiB", 1000 -> "1000B", 0 -> "0B". ParseByteSize reads it back.
std::string FormatByteSize(uint64_t bytes);

}  // namespace vigil::config
