// "policy": where the endpoint catalogue comes from, how often it is refreshed, and what a
// refresh that widens access does (docs/reference.md "Catalogue drift").
#include "config/sections.hpp"

namespace giosg::config_detail {

void read_policy(ObjectReader& top, const CredentialNames& credentials, Config& config) {
    auto policy = top.object("policy", Need::required);
    if (!policy) return;
    PolicyConfig& result = config.policy;
    bool source_known = true;
    if (auto source = policy->string("source")) {
        if (*source == "upstream") {
            result.source = PolicyConfig::Source::upstream;
        } else if (*source == "file") {
            result.source = PolicyConfig::Source::file;
        } else {
            policy->error("source", "must be \"upstream\" or \"file\"");
            source_known = false;
        }
    }
    result.file = read_path(*policy, "file", config.base_dir, Need::optional, true);
    if (auto credential = credentials.reference(*policy, "credential", Need::optional, true)) {
        result.credential = std::move(*credential);
    }
    if (auto refresh = policy->integer("refresh_s", 0, kMaxRefreshS)) {
        result.refresh = std::chrono::seconds(*refresh);
    }

    if (auto on_widening = policy->string("on_widening")) {
        if (*on_widening == "apply") {
            result.on_widening = PolicyConfig::OnWidening::apply;
        } else if (*on_widening == "hold") {
            result.on_widening = PolicyConfig::OnWidening::hold;
        } else {
            policy->error("on_widening", "must be \"apply\" or \"hold\"");
        }
    }

    // Only for an absent (or null) key: a present but invalid value already has its own error.
    if (source_known && result.source == PolicyConfig::Source::upstream && !policy->has_non_null("credential")) {
        policy->error("credential", "required when source is \"upstream\"");
    }
    if (source_known && result.source == PolicyConfig::Source::file && !policy->has_non_null("file")) {
        policy->error("file", "required when source is \"file\"");
    }
    policy->reject_unknown_keys();
}

}  // namespace giosg::config_detail
