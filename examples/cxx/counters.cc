// counters.cc — counting from C++ with libtally: a small RAII owner of a
// region, handles for the hot path, a by-name add, and a prefix query.
// Plain C++11; tally.h is the C header, usable as it is.
//   c++ counters.cc $(pkg-config --cflags --libs tally) -o counters
//   ./counters [REGION]      # default: /dev/shm/tally
#include <tally.h>

#include <cinttypes>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace {

// One region per process, opened once; closing it frees every handle
// obtained from it, so the handles must not outlive it.
class Region {
public:
    explicit Region(const std::string &name)
    {
        int rc = tally_open(&r_, name.c_str(), nullptr);
        if (rc != 0)
            throw std::runtime_error("tally: cannot open region " + name + ": " + tally_strerror(rc));
    }
    ~Region() { tally_close(r_); }
    Region(const Region &) = delete;
    Region &operator=(const Region &) = delete;

    // A handle for a counter, registering the name if it is new.
    tally_counter *counter(const std::string &name)
    {
        tally_counter *c = nullptr;
        check(tally_counter_get(r_, name.c_str(), &c), name);
        return c;
    }

    // An add by name: a hash and a lookup on every call.
    void add(const std::string &name, int64_t n = 1) { check(tally_add_name(r_, name.c_str(), n), name); }

    // Calls fn(name, value) for each counter whose name starts with prefix.
    template <class Fn> void each(const std::string &prefix, Fn fn)
    {
        auto thunk = [](const char *name, int64_t value, void *arg) -> int {
            (*static_cast<Fn *>(arg))(name, value);
            return 0;
        };
        check(tally_foreach(r_, prefix.c_str(), thunk, &fn), prefix);
    }

private:
    static void check(int rc, const std::string &name)
    {
        if (rc != 0)
            throw std::runtime_error("tally: " + name + ": " + tally_strerror(rc));
    }
    tally_region *r_ = nullptr;
};

} // namespace

int main(int argc, char **argv)
{
    try {
        Region region(argc > 1 ? argv[1] : "tally");
        tally_counter *requests = region.counter("api.requests.total");
        for (int i = 0; i < 3; i++)
            tally_add(requests, 1); // the hot path: one atomic add, no call
        region.add("llm.gpt-4o.tokens", 1200);
        region.each("", [](const char *name, int64_t value) {
            std::printf("%s %" PRId64 "\n", name, value);
        });
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
