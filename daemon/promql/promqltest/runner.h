#pragma once

#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "daemon/promql/semantics.h"

namespace vigil::promqltest {

enum class Outcome { kPassed, kFailed, kSkipped };

// The verdict on one `eval` statement (including its range-mode and `@`
// re-runs). `reason` says why it failed (got vs want) or why it does not apply.
struct CaseResult {
  int line = 0;
  std::string expr;
  Outcome outcome = Outcome::kPassed;
  std::string reason;
};

// Every eval of one test file, in file order. `error` is set when the file
// itself could not be read or parsed (then `cases` holds what ran before).
struct FileReport {
  std::string path;
  std::vector<CaseResult> cases;
  std::string error;

  int Count(Outcome outcome) const;
};

// Runs one Prometheus `.test` file (promqltest format: load / clear / eval,
// see shared/conformance/promql/README.md) against a fresh vigil::store::Store
// with the given semantics: each instant eval also runs as a range query
// t-1m..t+1m and with `@` pinned at -10t, 0, t/5, t, 10t, as Prometheus's
// harness does. Cases needing native histograms or feature-flagged syntax the
// engine does not implement are reported as skipped with the reason.
// Thread-safe (no shared state); never throws.
FileReport RunTestFile(const std::string& path, const promql::Semantics& semantics);

// Prints, per file, "path: P passed, F failed, S skipped", then each failure
// (and with `verbose` each skip) with its line and reason, and finally the
// total line "N passed, N failed, N skipped".
void PrintReport(std::ostream& out, std::span<const FileReport> reports, bool verbose = false);

}  // namespace vigil::promqltest
