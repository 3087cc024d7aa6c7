// cxx_api_test.cc — libtally's whole API from C++, as a C++ application
// uses it: built by cxx_header_test.sh with g++ and clang++ at C++11, 14, 17
// and 20 under -Werror, linked against libtally.so and run. Threads add
// through the inline tally_add, the exported tally_counter_add and by name;
// every value is checked exactly. Only C++11 is used, so one source serves
// every standard. Usage: cxx_api_test REGION_PATH (a path that does not
// exist yet; the test creates the region there).
#include <tally.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

int failures = 0;

void check(bool ok, const char *what, int line)
{
    if (!ok) {
        std::fprintf(stderr, "cxx_api_test.cc:%d: check failed: %s\n", line, what);
        failures++;
    }
}
#define CHECK(e) check((e), #e, __LINE__)

const int kThreads = 4;
const long kIters = 100000;
const long kByNameEvery = 100;

struct seen {
    int count;
    int64_t sum;
};

int visit(const char *name, int64_t value, void *arg)
{
    seen *s = static_cast<seen *>(arg);
    CHECK(std::strncmp(name, "cxx.", 4) == 0);
    s->count++;
    s->sum += value;
    return 0;
}

int guarded_read(void *arg)
{
    const tally_counter *c = static_cast<const tally_counter *>(arg);
    return tally_value(c) == 0 ? 7 : 8;
}

void add_from_threads(tally_region *r, tally_counter *inl, tally_counter *call)
{
    std::vector<std::thread> threads;
    std::vector<int> bad(kThreads, 0);
    for (int t = 0; t < kThreads; t++)
        threads.emplace_back([=, &bad] {
            for (long i = 0; i < kIters; i++) {
                tally_add(inl, 1);
                if (tally_counter_add(call, 2) != 0)
                    bad[static_cast<size_t>(t)]++;
                if (i % kByNameEvery == 0 && tally_add_name(r, "cxx.byname", 3) != 0)
                    bad[static_cast<size_t>(t)]++;
            }
        });
    for (std::thread &th : threads)
        th.join();
    for (int b : bad)
        CHECK(b == 0);
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: cxx_api_test REGION_PATH\n");
        return 2;
    }
    const std::string path = argv[1];

    // Designated initializers are C++20: C++ code sets the fields.
    tally_open_opts opts = tally_open_opts();
    opts.capacity = 64;
    opts.mode = 0600;
    tally_region *r = nullptr;
    int rc = tally_open(&r, path.c_str(), &opts);
    if (rc != 0) {
        std::fprintf(stderr, "cxx_api_test: tally_open %s: %s\n", path.c_str(), tally_strerror(rc));
        return 1;
    }

    tally_info info;
    CHECK(tally_info_get(r, &info) == 0);
    CHECK(info.capacity == 64 && info.used == 0 && info.created == 1 && info.readonly == 0);
    CHECK(path == info.path);
    tally_identity id;
    CHECK(tally_identity_get(r, &id) == 0 && id.id != 0);
    CHECK(tally_check_path(r) == 0);

    CHECK(tally_name_valid("cxx.inline") == 0);
    CHECK(tally_name_valid("") == TALLY_ENAME);
    tally_counter *inl = nullptr, *call = nullptr, *again = nullptr, *missing = nullptr;
    CHECK(tally_counter_get(r, "cxx.inline", &inl) == 0);
    CHECK(tally_counter_get(r, "cxx.call", &call) == 0);
    CHECK(tally_counter_find(r, "cxx.inline", &again) == 0 && again == inl);
    CHECK(tally_counter_find(r, "cxx.missing", &missing) == TALLY_ENOCOUNTER);
    CHECK(tally_counter_add(nullptr, 1) == TALLY_EINVAL);

    add_from_threads(r, inl, call);
    const int64_t by_name_adds = kThreads * ((kIters + kByNameEvery - 1) / kByNameEvery);
    tally_counter *by_name = nullptr;
    CHECK(tally_counter_find(r, "cxx.byname", &by_name) == 0);
    CHECK(tally_value(inl) == kThreads * kIters);
    CHECK(tally_value(call) == 2 * kThreads * kIters);
    CHECK(tally_value(by_name) == 3 * by_name_adds);

    seen s = {0, 0};
    CHECK(tally_foreach(r, "cxx.", visit, &s) == 0);
    CHECK(s.count == 3 && s.sum == 3 * kThreads * kIters + 3 * by_name_adds);
    uint32_t skipped = 99;
    s = seen{0, 0};
    CHECK(tally_foreach_checked(r, nullptr, visit, &s, &skipped) == 0);
    CHECK(skipped == 0 && s.count == 3);

    CHECK(tally_reset(inl) == kThreads * kIters && tally_value(inl) == 0);
    int64_t old = 0;
    CHECK(tally_counter_reset(call, &old) == 0 && old == 2 * kThreads * kIters);
    CHECK(tally_value(call) == 0);

    CHECK(tally_guard_install() == 0);
    CHECK(tally_guarded(r, guarded_read, inl) == 7);
    tally_guard_remove();

    CHECK(tally_info_get(r, &info) == 0 && info.used == 3 && info.overflow == 0);
    CHECK(std::strlen(tally_strerror(TALLY_EFULL)) > 0);
    CHECK(std::strlen(tally_strerror(TALLY_ERDONLY)) > 0);
    tally_close(r);

    // Attach only, trusting our own uid explicitly: the same counters.
    tally_open_opts attach = tally_open_opts();
    attach.flags = TALLY_OPEN_NOCREATE | TALLY_OPEN_OWNER;
    attach.owner = geteuid();
    CHECK(tally_open(&r, path.c_str(), &attach) == 0);
    CHECK(tally_counter_find(r, "cxx.byname", &by_name) == 0);
    CHECK(tally_value(by_name) == 3 * by_name_adds);
    tally_close(r);
    const std::string absent = path + ".absent";
    CHECK(tally_open(&r, absent.c_str(), &attach) == TALLY_ENOREGION && r == nullptr);
    static_assert(TALLY_OPEN_RDONLY != 0 && TALLY_OPEN_GROUP != 0, "flags are declared");

    if (failures == 0)
        std::printf("cxx_api_test: ok\n");
    return failures == 0 ? 0 : 1;
}
