// Heap profiler target in C++ (built by tests/cli/t6000-heap.sh with g++): new/delete, new[]/delete[],
// containers, an exception, and exactly one leak: a 48-byte object made with new in make_leak().
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct Node {
	char data[48];
};

static Node *volatile sink;

__attribute__((noinline)) static void make_leak() { sink = new Node(); }

__attribute__((noinline)) static size_t churn()
{
	size_t total = 0;
	for (int i = 0; i < 1000; i++) {
		std::vector<int> v(static_cast<size_t>(i % 100 + 1), i);
		auto s = std::make_unique<std::string>(static_cast<size_t>(i % 50 + 20), 'x');
		int *a = new int[16];
		a[0] = i;
		total += v.size() + s->size() + static_cast<size_t>(a[0]);
		delete[] a;
	}
	return total;
}

int main()
{
	size_t t = churn();
	try {
		throw std::runtime_error("expected");
	} catch (const std::exception &e) {
		t += std::string(e.what()).size();
	}
	make_leak();
	std::printf("%zu\n", t);
	return 0;
}
