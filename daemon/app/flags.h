#pragma once

#include <string>
#include <vector>

#include "daemon/util/result.h"

namespace vigil::app {

// Flags of the daemon, named as Prometheus names its own.
struct Flags {
  std::string config_file = "vigil.yml";
  std::string listen_address = "127.0.0.1:9777";
  std::string log_level = "info";    // debug, info, warn, error
  std::string log_format = "logfmt"; // logfmt, json
  std::string state_dir = "data";    // alert state is persisted here
  std::string promql_semantics = "v3";  // v3 (Prometheus 3.x) or v2 (2.x)
  std::string external_url;              // "" = http://<hostname>:<listen port>
  std::string resend_delay = "1m";       // minimum wait before resending a firing alert
  std::string for_outage_tolerance = "1h";  // max outage for which `for` state is restored
  std::string for_grace_period = "10m";     // min wait before a restored alert fires
};

enum class Command { kRun, kVersion, kHelp, kCheckConfig, kCheckRules, kTestPromql, kTestRules };

// A parsed command line: the command, its flags and positional arguments.
struct CommandLine {
  Command command = Command::kRun;
  Flags flags;
  std::vector<std::string> args;
};

// Parses `vigil [flags]`, `vigil check config|rules FILE...`,
// `vigil test promql|rules FILE...`, `--version`, `--help`.
// Flags take `--name=value` or `--name value`. Unknown flags and commands are
// errors that name them.
util::Result<CommandLine> ParseCommandLine(const std::vector<std::string>& argv);

// The --help text.
std::string Usage();

}  // namespace vigil::app
