#include "policy/drift.hpp"

#include <algorithm>
#include <utility>

#include "common/scope.hpp"
#include "policy/diff.hpp"
#include "policy/url_pattern.hpp"

namespace giosg {

namespace {

bool contains(const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

bool same_set(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::vector<std::string> left = a, right = b;
    std::sort(left.begin(), left.end());
    std::sort(right.begin(), right.end());
    return left == right;
}

/// A rule with these names, its bits as the catalogue parser sets them; `nobody` makes the rule
/// that admits no client (catalogue_entry.hpp).
MethodRule rule_with(const MethodRule& base, std::vector<std::string> names, bool nobody = false) {
    MethodRule rule{base.name, 0, std::move(names)};
    for (const std::string& name : rule.scope_names) rule.scopes |= parse_scope(name).value_or(kUnknownScope);
    if (nobody) rule.scopes = kUnknownScope;
    return rule;
}

/// What `in_force` keeps of a live rule for one (pattern, method): nullopt to drop the method.
struct Adjustment {
    std::string pattern;
    std::string method;
    std::optional<MethodRule> rule;
};

/// Decides a '~' under hold: fills `change` and returns the rule to keep in force instead of the
/// live one, or nullopt when the live rule applies as it is.
std::optional<MethodRule> decide_scope_change(const MethodRule& before, const MethodRule& after, PolicyChange& change) {
    if (before.scopes == 0) return std::nullopt;  // any -> some: narrows
    if (after.scopes == 0) {                       // emptied: every client would reach it
        change.applied = false;
        if (!before.admits_nobody()) change.in_force_scopes = before.scope_names;
        return before;
    }
    if (before.admits_nobody()) {                  // nobody stays nobody until accepted
        change.applied = false;
        return before;
    }
    std::vector<std::string> both;
    for (const std::string& name : before.scope_names)
        if (contains(after.scope_names, name) && !contains(both, name)) both.push_back(name);
    if (same_set(both, after.scope_names)) return std::nullopt;  // only narrows
    change.applied = false;
    if (both.empty()) return rule_with(after, {}, true);
    change.in_force_scopes = both;
    return rule_with(after, std::move(both));
}

std::vector<CatalogueEntry> apply_adjustments(const std::vector<CatalogueEntry>& live,
                                              const std::vector<Adjustment>& adjustments) {
    std::vector<CatalogueEntry> result;
    result.reserve(live.size());
    for (const CatalogueEntry& entry : live) {
        const std::string_view pattern = drop_trailing_slash(entry.url_pattern);
        CatalogueEntry adjusted = entry;
        bool touched = false;
        for (const Adjustment& a : adjustments) {
            if (a.pattern != pattern) continue;
            // Every occurrence of the method: PolicyTable::compile merges repeated patterns.
            for (auto it = adjusted.methods.begin(); it != adjusted.methods.end();) {
                if (it->name != a.method) {
                    ++it;
                } else if (a.rule) {
                    *it++ = *a.rule;
                } else {
                    it = adjusted.methods.erase(it);
                    touched = true;
                }
            }
        }
        // An endpoint whose every method is held stays unknown (404), not a 405 for everything.
        if (touched && adjusted.methods.empty()) continue;
        result.push_back(std::move(adjusted));
    }
    return result;
}

}  // namespace

std::string PolicyChange::line() const {
    std::string out = std::string(1, change) + ' ' + pattern + ' ' + method + ' ';
    if (change == '+') {
        out += scope_list(scopes.value_or(std::vector<std::string>{}));
    } else if (change == '-') {
        out += scope_list(previous_scopes);
    } else {
        out += scope_list(previous_scopes) + " -> " + scope_list(scopes.value_or(std::vector<std::string>{}));
    }
    if (!applied) {
        if (change == '~' && !in_force_scopes) {
            out += " (held; in force: nobody)";
        } else if (change == '~' && !same_set(*in_force_scopes, previous_scopes)) {
            out += " (held; in force: " + scope_list(*in_force_scopes) + ")";
        } else {
            out += " (held)";
        }
    }
    return out;
}

bool PolicyChange::same_change(const PolicyChange& other) const {
    if (change != other.change || pattern != other.pattern || method != other.method) return false;
    if (scopes.has_value() != other.scopes.has_value()) return false;
    return !scopes || same_set(*scopes, *other.scopes);
}

DriftOutcome reconcile_catalogue(const std::vector<CatalogueEntry>& in_force, const std::vector<CatalogueEntry>& live,
                                 OnWidening mode) {
    DriftOutcome outcome;
    std::vector<Adjustment> adjustments;
    for (const MethodDiff& d : diff_methods(in_force, live)) {
        PolicyChange change;
        change.change = d.change;
        change.pattern = d.pattern;
        change.method = d.method;
        if (d.after) change.scopes = d.after->scope_names;
        if (d.before) change.previous_scopes = d.before->scope_names;
        if (mode == OnWidening::hold) {
            if (d.change == '+') {
                change.applied = false;
                adjustments.push_back({d.pattern, d.method, std::nullopt});
            } else if (d.change == '~') {
                if (auto keep = decide_scope_change(*d.before, *d.after, change))
                    adjustments.push_back({d.pattern, d.method, std::move(keep)});
            }
            // '-' always applies: the live catalogue no longer has it.
        }
        outcome.changes.push_back(std::move(change));
    }
    outcome.in_force = adjustments.empty() ? live : apply_adjustments(live, adjustments);
    return outcome;
}

PolicyDrift::PolicyDrift(std::vector<CatalogueEntry> in_force, OnWidening mode, std::vector<PolicyChange> held)
    : in_force_(std::move(in_force)), mode_(mode), held_(std::move(held)) {}

std::vector<PolicyChange> PolicyDrift::refresh(const std::vector<CatalogueEntry>& live) {
    DriftOutcome outcome = reconcile_catalogue(in_force_, live, mode_);
    std::vector<PolicyChange> reported;
    std::vector<PolicyChange> held;
    for (PolicyChange& change : outcome.changes) {
        if (!change.applied) {
            const auto known = std::find_if(held_.begin(), held_.end(),
                                            [&](const PolicyChange& h) { return h.same_change(change); });
            if (known != held_.end()) {
                held.push_back(*known);  // keeps the list in force when it was first held
                continue;
            }
            held.push_back(change);
        }
        reported.push_back(std::move(change));
    }
    in_force_ = std::move(outcome.in_force);
    held_ = std::move(held);
    return reported;
}

}  // namespace giosg
