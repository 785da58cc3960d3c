#include "model/weights.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>

#include <spdlog/spdlog.h>

#include "io/safetensors.h"
#include "meswitch/error.h"
#include "meswitch/system.h"

namespace meswitch::model {

namespace {

bool supported_dtype(DType d) {
    return d == DType::f32 || d == DType::f16 || d == DType::bf16;
}

void refresh(WeightSlot& s) {
    s.current = s.replacement ? s.replacement->view() : s.bound ? *s.bound : s.original;
    if (s.current.shape.size() == 1) {
        s.f32.resize(static_cast<std::size_t>(s.current.shape[0]));
        cpu::widen_to_f32(s.current.dtype, s.current.data, s.f32.data(), s.f32.size());
    }
}

std::string shape_str(const std::vector<std::int64_t>& shape) {
    TensorView v;
    v.shape = shape;
    return v.shape_string();
}

// The layer number of "model.layers.<N>.…", if the name has that form.
std::optional<std::int64_t> layer_of(const std::string& name) {
    constexpr std::string_view prefix = "model.layers.";
    if (name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    std::int64_t layer = 0;
    std::size_t i = prefix.size();
    const std::size_t first = i;
    for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && i - first < 12; ++i)
        layer = layer * 10 + (name[i] - '0');
    if (i == first || i >= name.size() || name[i] != '.') return std::nullopt;
    return layer;
}

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0;
}

constexpr std::size_t max_listed_problems = 5;

}  // namespace

std::vector<std::string> unused_tensor_problems(const ModelConfig& config,
                                                const std::vector<std::string>& tensor_names) {
    std::set<std::string, std::less<>> expected;
    for (const ExpectedTensor& t : expected_tensors(config)) expected.insert(t.name);
    std::vector<std::string> problems;
    std::size_t extra_layers = 0, unused = 0;
    std::string first_extra_layer;
    std::int64_t highest_layer = -1;
    for (const std::string& name : tensor_names) {
        if (expected.count(name)) continue;
        if (const auto layer = layer_of(name); layer && *layer >= config.num_hidden_layers) {
            if (extra_layers++ == 0) first_extra_layer = name;
            highest_layer = std::max(highest_layer, *layer);
            continue;
        }
        if (ends_with(name, ".rotary_emb.inv_freq")) continue;
        if (name == "lm_head.weight" && config.tie_word_embeddings) continue;
        if (unused++ < max_listed_problems)
            problems.push_back("tensor '" + name + "' is not used by a " + arch_name(config.arch) +
                               " with this config.json (the config and the weights disagree)");
    }
    if (extra_layers > 0)
        problems.insert(problems.begin(), "tensor '" + first_extra_layer + "' belongs to layer " +
                                              std::to_string(*layer_of(first_extra_layer)) +
                                              ", but config.json has num_hidden_layers = " +
                                              std::to_string(config.num_hidden_layers) +
                                              " (the weights hold " + std::to_string(extra_layers) +
                                              " tensor(s) of layers up to " +
                                              std::to_string(highest_layer) +
                                              "; the config and the weights disagree)");
    if (unused > max_listed_problems)
        problems.push_back("… and " + std::to_string(unused - max_listed_problems) +
                           " more unused tensors");
    return problems;
}

cpu::Matrix WeightSlot::matrix() const {
    cpu::Matrix m;
    m.dtype = current.dtype;
    m.rows = current.shape.size() == 2 ? current.shape[0] : 0;
    m.cols = current.shape.size() == 2 ? current.shape[1] : 0;
    m.data = current.data;
    return m;
}

WeightStore::WeightStore() = default;
WeightStore::~WeightStore() = default;
WeightStore::WeightStore(WeightStore&&) noexcept = default;
WeightStore& WeightStore::operator=(WeightStore&&) noexcept = default;

void WeightStore::add_slots(const ModelConfig& config,
                            const std::function<TensorView(const std::string&)>& view_of,
                            const std::string& source) {
    for (const ExpectedTensor& t : expected_tensors(config)) {
        TensorView view = view_of(t.name);
        if (!supported_dtype(view.dtype))
            throw Error(ErrorKind::unsupported, source + ": tensor '" + t.name + "' has dtype " +
                                                    dtype_name(view.dtype) +
                                                    "; only F32, F16 and BF16 weights can run");
        const std::size_t elem = dtype_size(view.dtype);
        if (reinterpret_cast<std::uintptr_t>(view.data) % elem != 0) {
            // Misaligned in the file: keep an aligned copy so the kernels never read a
            // misaligned element.
            HostTensor copy;
            copy.dtype = view.dtype;
            copy.shape = view.shape;
            copy.data.assign(view.data, view.data + view.nbytes);
            auto it = owned_.insert_or_assign(t.name, std::move(copy)).first;
            view = it->second.view();
        }
        WeightSlot s;
        s.name = t.name;
        s.original = view;
        refresh(s);
        slots_.insert_or_assign(t.name, std::move(s));
    }
}

struct WeightStore::Arena {
    void* data = nullptr;
    std::size_t bytes = 0;
    ~Arena() {
        if (data) ::munmap(data, bytes);
    }
};

namespace {

constexpr std::size_t huge_page = std::size_t{2} << 20;

}  // namespace

WeightStore WeightStore::open(const ModelConfig& config, const std::filesystem::path& folder,
                              bool in_memory) {
    WeightStore w;
    w.checkpoint_ = std::make_unique<io::Checkpoint>(folder);
    const io::Checkpoint& ck = *w.checkpoint_;
    const std::string source = folder.string();
    auto problems = check_tensor_shapes(
        config, [&](const std::string& name) -> std::optional<std::vector<std::int64_t>> {
            if (!ck.contains(name)) return std::nullopt;
            return ck.info(name).shape;
        });
    for (auto& p : unused_tensor_problems(config, ck.tensor_names()))
        problems.push_back(std::move(p));
    if (!problems.empty()) {
        std::string msg = source + ": the weights do not match config.json (" +
                          std::to_string(problems.size()) + " problem(s)):";
        for (std::size_t i = 0; i < problems.size() && i < 5; ++i) msg += "\n  " + problems[i];
        if (problems.size() > 5) msg += "\n  …";
        throw Error(ErrorKind::format, msg);
    }
    if (in_memory) {
        // One arena, every tensor at a 64-byte boundary, rounded up to whole huge pages.
        std::size_t total = 0;
        for (const ExpectedTensor& t : expected_tensors(config))
            total += (ck.view(t.name).nbytes + 63) / 64 * 64;
        const std::size_t bytes = (total + huge_page - 1) / huge_page * huge_page;
        const std::uint64_t available = host_memory_available();
        if (bytes > 0 && available > 0 && bytes <= available / 2) {
            void* p =
                ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p != MAP_FAILED) {
                w.arena_ = std::make_unique<Arena>();
                w.arena_->data = p;
                w.arena_->bytes = bytes;
                ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint; 4 KiB pages work too
            } else {
                spdlog::info(
                    "{}: no {} MiB of anonymous memory for the weights; reading them "
                    "from the mapped files",
                    source, bytes >> 20);
            }
        } else {
            spdlog::info(
                "{}: the weights ({} MiB) take more than half of the available memory "
                "({} MiB); reading them from the mapped files",
                source, bytes >> 20, available >> 20);
        }
    }
    if (!w.arena_) {
        w.add_slots(
            config, [&](const std::string& name) { return ck.view(name); }, source);
        return w;
    }
    std::size_t at = 0;
    auto* base = static_cast<std::byte*>(w.arena_->data);
    w.add_slots(
        config,
        [&](const std::string& name) {
            TensorView v = ck.view(name);
            std::byte* dst = base + at;
            std::memcpy(dst, v.data, v.nbytes);
            at += (v.nbytes + 63) / 64 * 64;
            v.data = dst;
            return v;
        },
        source);
    w.checkpoint_.reset();  // every slot points into the arena now
    return w;
}

void WeightStore::release_mapped_pages() const {
    if (!checkpoint_) return;
    for (const std::string& name : checkpoint_->tensor_names()) {
        const TensorView v = checkpoint_->view(name);
        io::release_pages(v.data, v.nbytes);
    }
}

WeightStore WeightStore::from_tensors(const ModelConfig& config,
                                      std::map<std::string, HostTensor> tensors) {
    WeightStore w;
    for (auto& [name, t] : tensors) {
        std::size_t numel = 1;
        for (auto d : t.shape) {
            if (d < 0)
                throw Error(ErrorKind::invalid_argument,
                            "tensor '" + name + "' has a negative dimension");
            numel *= static_cast<std::size_t>(d);
        }
        if (numel * dtype_size(t.dtype) != t.data.size())
            throw Error(ErrorKind::invalid_argument,
                        "tensor '" + name + "' holds " + std::to_string(t.data.size()) +
                            " bytes but its shape " + shape_str(t.shape) + " needs " +
                            std::to_string(numel * dtype_size(t.dtype)));
    }
    w.owned_ = std::move(tensors);
    auto problems = check_tensor_shapes(
        config, [&](const std::string& name) -> std::optional<std::vector<std::int64_t>> {
            auto it = w.owned_.find(name);
            if (it == w.owned_.end()) return std::nullopt;
            return it->second.shape;
        });
    if (!problems.empty())
        throw Error(
            ErrorKind::format,
            "in-memory model: " + problems.front() +
                (problems.size() > 1 ? " (and " + std::to_string(problems.size() - 1) + " more)"
                                     : ""));
    w.add_slots(
        config, [&](const std::string& name) { return w.owned_.at(name).view(); },
        "in-memory model");
    return w;
}

WeightSlot& WeightStore::slot(std::string_view name) {
    auto it = slots_.find(name);
    if (it == slots_.end())
        throw Error(ErrorKind::not_found, "model has no weight '" + std::string(name) + "'");
    return it->second;
}

const WeightSlot& WeightStore::slot(std::string_view name) const {
    return const_cast<WeightStore*>(this)->slot(name);
}

std::vector<std::string> WeightStore::names() const {
    std::vector<std::string> out;
    for (const auto& [name, s] : slots_) out.push_back(name);
    return out;
}

void WeightStore::replace(std::string_view name, HostTensor tensor) {
    WeightSlot& s = slot(name);
    if (tensor.shape != s.original.shape)
        throw Error(ErrorKind::invalid_argument,
                    "replacement for '" + s.name + "' has shape " + shape_str(tensor.shape) +
                        " but the model's is " + s.original.shape_string());
    if (!supported_dtype(tensor.dtype))
        throw Error(ErrorKind::unsupported, "replacement for '" + s.name + "' has dtype " +
                                                dtype_name(tensor.dtype) +
                                                " (F32, F16, BF16 only)");
    std::size_t numel = 1;
    for (auto d : tensor.shape) numel *= static_cast<std::size_t>(d);
    if (tensor.data.size() != numel * dtype_size(tensor.dtype))
        throw Error(ErrorKind::invalid_argument,
                    "replacement for '" + s.name + "' holds " + std::to_string(tensor.data.size()) +
                        " bytes, expected " + std::to_string(numel * dtype_size(tensor.dtype)));
    s.replacement = std::move(tensor);
    refresh(s);
}

void WeightStore::restore(std::string_view name) {
    WeightSlot& s = slot(name);
    s.replacement.reset();
    s.bound.reset();
    refresh(s);
}

void WeightStore::bind(std::string_view name, const TensorView& view) {
    WeightSlot& s = slot(name);
    if (view.shape != s.original.shape)
        throw Error(ErrorKind::invalid_argument,
                    "bound memory for '" + s.name + "' has shape " + shape_str(view.shape) +
                        " but the model's is " + s.original.shape_string());
    if (!supported_dtype(view.dtype))
        throw Error(ErrorKind::unsupported, "bound memory for '" + s.name + "' has dtype " +
                                                dtype_name(view.dtype) + " (F32, F16, BF16 only)");
    std::size_t numel = 1;
    for (auto d : view.shape) numel *= static_cast<std::size_t>(d);
    if (view.data == nullptr || view.nbytes != numel * dtype_size(view.dtype))
        throw Error(ErrorKind::invalid_argument,
                    "bound memory for '" + s.name + "' holds " + std::to_string(view.nbytes) +
                        " bytes, expected " + std::to_string(numel * dtype_size(view.dtype)));
    if (reinterpret_cast<std::uintptr_t>(view.data) % dtype_size(view.dtype) != 0)
        throw Error(ErrorKind::invalid_argument,
                    "bound memory for '" + s.name + "' is not aligned to its element size");
    s.bound = view;
    refresh(s);
}

}  // namespace meswitch::model
