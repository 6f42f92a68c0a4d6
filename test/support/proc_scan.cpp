// SPDX-License-Identifier: Apache-2.0
#include "support/proc_scan.hpp"

#include <dirent.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace eci::test {

std::vector<std::pair<int, std::string>> read_proc_files(const char* file) {
    std::vector<std::pair<int, std::string>> out;
    DIR* dir = ::opendir("/proc");
    if (dir == nullptr)
        throw std::runtime_error("cannot open /proc");
    while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::ifstream stream("/proc/" + name + "/" + file, std::ios::binary);
        out.emplace_back(std::stoi(name), std::string(std::istreambuf_iterator<char>(stream),
                                                      std::istreambuf_iterator<char>()));
    }
    ::closedir(dir);
    return out;
}

std::vector<int> pids_with_marker(const std::string& marker) {
    std::vector<int> pids;
    for (const auto& [pid, content] : read_proc_files("environ")) {
        std::size_t begin = 0;
        while (begin < content.size()) {
            std::size_t end = content.find('\0', begin);
            if (end == std::string::npos)
                end = content.size();
            if (content.compare(begin, end - begin, marker) == 0) {
                pids.push_back(pid);
                break;
            }
            begin = end + 1;
        }
    }
    return pids;
}

std::set<int> children_of(int parent) {
    std::set<int> children;
    for (const auto& [pid, stat] : read_proc_files("stat")) {
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        const auto close = stat.rfind(')');
        char state = 0;
        int ppid = 0;
        if (close != std::string::npos &&
            std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == parent)
            children.insert(pid);
    }
    return children;
}

}  // namespace eci::test
