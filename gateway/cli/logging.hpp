#pragma once
// The operational log on stderr (docs/reference.md §5 "Logs"): text lines for people or JSON
// lines for a log shipper, at the level of the config's "log" section (GIOSG_LOG_LEVEL, when
// set, wins). Never a key, token or Authorization value: callers do not pass them.
#include "config/config.hpp"

namespace giosg::cli {

/// The default logger, text format, level from GIOSG_LOG_LEVEL or info. Idempotent.
void setup_logging();

/// Applies a "log" section to the default logger (at start and at every reload).
void apply_log_config(const LogConfig& log);

}  // namespace giosg::cli
