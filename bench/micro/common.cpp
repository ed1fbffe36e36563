#include "common.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace giosg::bench {

const std::vector<CatalogueEntry>& shipped_catalogue() {
    static const std::vector<CatalogueEntry> entries = [] {
        std::ifstream in(GIOSG_BENCH_CATALOGUE, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        auto parsed = parse_catalogue_page(text.str());
        if (!in || !parsed.page || parsed.page->entries.empty()) {
            std::fprintf(stderr, "cannot load %s\n", GIOSG_BENCH_CATALOGUE);
            std::abort();
        }
        return std::move(parsed.page->entries);
    }();
    return entries;
}

const std::vector<CatalogueEntry>& synthetic_catalogue_10x() {
    static const std::vector<CatalogueEntry> entries = [] {
        const auto& base = shipped_catalogue();
        std::vector<CatalogueEntry> out = base;
        const std::string prefix = "/api/v5/";
        for (int k = 1; k < 10; ++k) {
            for (const auto& e : base) {
                CatalogueEntry copy = e;
                if (copy.url_pattern.rfind(prefix, 0) == 0) {
                    const auto end = copy.url_pattern.find('/', prefix.size());
                    const auto seg_end = end == std::string::npos ? copy.url_pattern.size() : end;
                    copy.url_pattern.insert(seg_end, "_k" + std::to_string(k));
                } else {
                    copy.url_pattern = "/k" + std::to_string(k) + copy.url_pattern;
                }
                out.push_back(std::move(copy));
            }
        }
        return out;
    }();
    return entries;
}

std::vector<std::string> concrete_paths(const std::vector<CatalogueEntry>& entries) {
    std::vector<std::string> paths;
    paths.reserve(entries.size());
    for (const auto& e : entries) {
        std::string p;
        std::size_t i = 0;
        const auto& pat = e.url_pattern;
        while (i < pat.size()) {
            if (pat[i] == '<') {
                const auto close = pat.find('>', i);
                p += kOrg;
                i = close + 1;
            } else {
                p += pat[i++];
            }
        }
        paths.push_back(std::move(p));
    }
    return paths;
}

}  // namespace giosg::bench
