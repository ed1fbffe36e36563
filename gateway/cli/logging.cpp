#include "cli/logging.hpp"

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <string>

#include "audit/record.hpp"
#include "common/json_escape.hpp"

namespace giosg::cli {

namespace {

constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v";

/// One JSON object per line: {"ts": RFC 3339 UTC with ms, "level", "msg"}.
class JsonLineFormatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        line_.clear();
        line_.append("{\"ts\":\"");
        append_rfc3339_ms(std::chrono::time_point_cast<std::chrono::system_clock::duration>(msg.time), line_);
        line_.append("\",\"level\":\"");
        const auto level = spdlog::level::to_string_view(msg.level);
        line_.append(level.data(), level.size());
        line_.append("\",\"msg\":\"");
        append_json_escaped(std::string_view(msg.payload.data(), msg.payload.size()), line_);
        line_.append("\"}\n");
        dest.append(line_.data(), line_.data() + line_.size());
    }
    [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonLineFormatter>();
    }

private:
    std::string line_;
};

spdlog::level::level_enum to_spdlog(LogConfig::Level level) {
    return static_cast<spdlog::level::level_enum>(static_cast<int>(level));  // the same order
}

}  // namespace

void setup_logging() {
    static bool done = false;
    if (done) return;
    done = true;
    auto logger = spdlog::stderr_color_mt("giosg-gateway");
    logger->set_pattern(kTextPattern, spdlog::pattern_time_type::utc);
    spdlog::set_default_logger(logger);
    if (const char* level = std::getenv("GIOSG_LOG_LEVEL")) spdlog::set_level(spdlog::level::from_str(level));
}

void apply_log_config(const LogConfig& log) {
    auto logger = spdlog::default_logger();
    if (log.format == LogConfig::Format::json) {
        logger->set_formatter(std::make_unique<JsonLineFormatter>());
    } else {
        logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(kTextPattern, spdlog::pattern_time_type::utc));
    }
    if (std::getenv("GIOSG_LOG_LEVEL") == nullptr) logger->set_level(to_spdlog(log.level));
}

}  // namespace giosg::cli
