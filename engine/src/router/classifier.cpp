// Multinomial logistic regression with L2 (L-BFGS on standardised features) and temperature
// scaling fitted on stratified cross-validation folds.
#include "router/classifier.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <numeric>
#include <string>

#include "meswitch/error.h"

namespace meswitch::router {

std::vector<double> softmax(std::span<const double> values, double temperature) {
    std::vector<double> p(values.size());
    if (values.empty()) return p;
    const double t = temperature > 0 ? temperature : 1;
    double top = -INFINITY;
    for (double v : values) top = std::max(top, v / t);
    double sum = 0;
    for (std::size_t i = 0; i < values.size(); ++i) sum += p[i] = std::exp(values[i] / t - top);
    for (double& x : p) x /= sum;
    return p;
}

namespace {

using Matrix = std::vector<std::vector<double>>;  // rows of standardised features

// Loss and gradient of the L2-regularised multinomial logistic loss; params = [W | b].
struct Problem {
    const Matrix& x;
    const std::vector<int>& y;
    int classes;
    std::size_t dim;
    double l2;

    double evaluate(const std::vector<double>& params, std::vector<double>& grad) const {
        const std::size_t k = static_cast<std::size_t>(classes);
        const double* w = params.data();
        const double* b = params.data() + k * dim;
        std::fill(grad.begin(), grad.end(), 0.0);
        double* gw = grad.data();
        double* gb = grad.data() + k * dim;
        const double n = static_cast<double>(x.size());
        double loss = 0;
        std::vector<double> z(k);
        for (std::size_t i = 0; i < x.size(); ++i) {
            for (std::size_t c = 0; c < k; ++c) {
                double s = b[c];
                for (std::size_t j = 0; j < dim; ++j) s += w[c * dim + j] * x[i][j];
                z[c] = s;
            }
            const auto p = softmax(z);
            loss -= std::log(std::max(p[static_cast<std::size_t>(y[i])], 1e-300));
            for (std::size_t c = 0; c < k; ++c) {
                const double g = (p[c] - (static_cast<int>(c) == y[i] ? 1.0 : 0.0)) / n;
                gb[c] += g;
                for (std::size_t j = 0; j < dim; ++j) gw[c * dim + j] += g * x[i][j];
            }
        }
        loss /= n;
        for (std::size_t j = 0; j < k * dim; ++j) {
            loss += 0.5 * l2 * w[j] * w[j];
            gw[j] += l2 * w[j];
        }
        return loss;
    }
};

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

// L-BFGS (memory 10) with Armijo backtracking. The problem is strictly convex (l2 > 0).
std::vector<double> minimise(const Problem& problem, std::size_t size, const ClassifierOptions& o) {
    std::vector<double> x(size, 0.0), g(size), x_new(size), g_new(size), d(size);
    double f = problem.evaluate(x, g);
    std::deque<std::vector<double>> s_hist, y_hist;
    std::deque<double> rho_hist;
    for (int it = 0; it < o.max_iterations; ++it) {
        if (std::sqrt(dot(g, g)) < o.gradient_tolerance) break;
        // Two-loop recursion: d = -H·g.
        d = g;
        std::vector<double> alpha(s_hist.size());
        for (std::size_t m = s_hist.size(); m-- > 0;) {
            alpha[m] = rho_hist[m] * dot(s_hist[m], d);
            for (std::size_t i = 0; i < size; ++i) d[i] -= alpha[m] * y_hist[m][i];
        }
        if (!s_hist.empty()) {
            const double gamma =
                dot(s_hist.back(), y_hist.back()) / dot(y_hist.back(), y_hist.back());
            for (double& v : d) v *= gamma;
        }
        for (std::size_t m = 0; m < s_hist.size(); ++m) {
            const double beta = rho_hist[m] * dot(y_hist[m], d);
            for (std::size_t i = 0; i < size; ++i) d[i] += s_hist[m][i] * (alpha[m] - beta);
        }
        for (double& v : d) v = -v;
        double slope = dot(g, d);
        if (!(slope < 0)) {  // not a descent direction: restart from steepest descent
            s_hist.clear(), y_hist.clear(), rho_hist.clear();
            for (std::size_t i = 0; i < size; ++i) d[i] = -g[i];
            slope = dot(g, d);
        }
        double step = s_hist.empty() ? 1.0 / std::max(1.0, std::sqrt(dot(g, g))) : 1.0;
        double f_new = 0;
        bool accepted = false;
        for (int tries = 0; tries < 40; ++tries) {
            for (std::size_t i = 0; i < size; ++i) x_new[i] = x[i] + step * d[i];
            f_new = problem.evaluate(x_new, g_new);
            if (std::isfinite(f_new) && f_new <= f + 1e-4 * step * slope) {
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if (!accepted) break;  // no progress possible at double precision
        std::vector<double> s(size), y(size);
        for (std::size_t i = 0; i < size; ++i) s[i] = x_new[i] - x[i], y[i] = g_new[i] - g[i];
        const double sy = dot(s, y);
        if (sy > 1e-12) {
            s_hist.push_back(std::move(s));
            y_hist.push_back(std::move(y));
            rho_hist.push_back(1.0 / sy);
            if (s_hist.size() > 10) s_hist.pop_front(), y_hist.pop_front(), rho_hist.pop_front();
        }
        const double decrease = f - f_new;
        x.swap(x_new);
        g.swap(g_new);
        f = f_new;
        if (decrease < 1e-12 * std::max(1.0, std::abs(f))) break;
    }
    return x;
}

// Mean cross-entropy of softmax(logits / t) against the labels smoothed by Laplace's rule of
// succession: the true class gets 1 - ε, the others ε / (K - 1), with ε = (K - 1) / (n + K).
// Without it, held-out folds that are all right drive t to 0 (certainty from a few dozen
// examples); with it, n correct held-out answers justify about (n + 1) / (n + K) confidence.
double smoothed_nll(const Matrix& logits, const std::vector<int>& labels, double t) {
    const double n = static_cast<double>(logits.size());
    const double k = logits.empty() ? 1.0 : static_cast<double>(logits[0].size());
    const double eps = k > 1 ? (k - 1) / (n + k) : 0.0;
    double s = 0;
    for (std::size_t i = 0; i < logits.size(); ++i) {
        const auto p = softmax(logits[i], t);
        for (std::size_t c = 0; c < p.size(); ++c) {
            const double target = static_cast<int>(c) == labels[i] ? 1 - eps : eps / (k - 1);
            s -= target * std::log(std::max(p[c], 1e-300));
        }
    }
    return s / n;
}

// Golden-section search of log t in [log 0.05, log 20].
double fit_temperature(const Matrix& logits, const std::vector<int>& labels) {
    double a = std::log(0.05), b = std::log(20.0);
    const double r = (std::sqrt(5.0) - 1) / 2;
    double c = b - r * (b - a), d = a + r * (b - a);
    double fc = smoothed_nll(logits, labels, std::exp(c)),
           fd = smoothed_nll(logits, labels, std::exp(d));
    for (int i = 0; i < 60; ++i) {
        if (fc <= fd) {
            b = d, d = c, fd = fc;
            c = b - r * (b - a);
            fc = smoothed_nll(logits, labels, std::exp(c));
        } else {
            a = c, c = d, fc = fd;
            d = a + r * (b - a);
            fd = smoothed_nll(logits, labels, std::exp(d));
        }
    }
    return std::exp((a + b) / 2);
}

void check_inputs(const std::vector<std::vector<float>>& features, const std::vector<int>& labels,
                  int classes) {
    if (classes < 1) throw Error(ErrorKind::invalid_argument, "router classifier: no classes");
    if (features.empty() || features.size() != labels.size())
        throw Error(ErrorKind::invalid_argument,
                    "router classifier: " + std::to_string(features.size()) + " feature rows for " +
                        std::to_string(labels.size()) + " labels (need the same, at least one)");
    const std::size_t dim = features[0].size();
    if (dim == 0) throw Error(ErrorKind::invalid_argument, "router classifier: empty feature rows");
    std::vector<int> count(static_cast<std::size_t>(classes), 0);
    for (std::size_t i = 0; i < features.size(); ++i) {
        if (features[i].size() != dim)
            throw Error(ErrorKind::invalid_argument,
                        "router classifier: feature row " + std::to_string(i) + " has " +
                            std::to_string(features[i].size()) + " values, expected " +
                            std::to_string(dim));
        for (float v : features[i])
            if (!std::isfinite(v))
                throw Error(ErrorKind::invalid_argument, "router classifier: feature row " +
                                                             std::to_string(i) +
                                                             " has a non-finite value");
        if (labels[i] < 0 || labels[i] >= classes)
            throw Error(ErrorKind::invalid_argument,
                        "router classifier: label " + std::to_string(labels[i]) + " of row " +
                            std::to_string(i) + " is outside [0, " + std::to_string(classes) + ")");
        ++count[static_cast<std::size_t>(labels[i])];
    }
    for (int c = 0; c < classes; ++c)
        if (count[static_cast<std::size_t>(c)] == 0)
            throw Error(ErrorKind::invalid_argument,
                        "router classifier: class " + std::to_string(c) + " has no examples");
}

// Fits standardisation and weights (temperature 1) on a subset of rows.
void fit(const std::vector<std::vector<float>>& features, const std::vector<int>& labels,
         int classes, const ClassifierOptions& o, std::vector<double>& mean,
         std::vector<double>& inv_std, std::vector<double>& params) {
    const std::size_t n = features.size(), dim = features[0].size();
    mean.assign(dim, 0.0);
    inv_std.assign(dim, 0.0);
    for (const auto& row : features)
        for (std::size_t j = 0; j < dim; ++j) mean[j] += row[j];
    for (double& m : mean) m /= static_cast<double>(n);
    for (const auto& row : features)
        for (std::size_t j = 0; j < dim; ++j) inv_std[j] += (row[j] - mean[j]) * (row[j] - mean[j]);
    for (double& v : inv_std) {
        const double sd = std::sqrt(v / static_cast<double>(n));
        v = sd > 1e-8 ? 1.0 / sd : 0.0;  // a constant feature carries nothing
    }
    Matrix x(n, std::vector<double>(dim));
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < dim; ++j) x[i][j] = (features[i][j] - mean[j]) * inv_std[j];
    const Problem problem{x, labels, classes, dim, o.l2};
    params = minimise(problem, static_cast<std::size_t>(classes) * (dim + 1), o);
}

}  // namespace

Classifier Classifier::train(const std::vector<std::vector<float>>& features,
                             const std::vector<int>& labels, int classes,
                             const ClassifierOptions& options) {
    check_inputs(features, labels, classes);
    if (!(options.l2 > 0))
        throw Error(ErrorKind::invalid_argument, "router classifier: l2 must be positive");
    auto make = [&](const std::vector<std::vector<float>>& f, const std::vector<int>& l) {
        Classifier c;
        std::vector<double> params;
        fit(f, l, classes, options, c.mean_, c.inv_std_, params);
        const std::size_t dim = c.mean_.size(), k = static_cast<std::size_t>(classes);
        c.classes_ = classes;
        c.weights_.assign(params.begin(), params.begin() + static_cast<std::ptrdiff_t>(k * dim));
        c.biases_.assign(params.begin() + static_cast<std::ptrdiff_t>(k * dim), params.end());
        return c;
    };
    Classifier model = make(features, labels);

    // Temperature from stratified folds: example j of class c goes to fold j mod folds.
    std::vector<int> count(static_cast<std::size_t>(classes), 0);
    for (int l : labels) ++count[static_cast<std::size_t>(l)];
    const int folds = std::min(options.folds, *std::min_element(count.begin(), count.end()));
    if (classes < 2 || folds < 2) return model;
    std::vector<int> fold_of(labels.size());
    std::vector<int> seen(static_cast<std::size_t>(classes), 0);
    for (std::size_t i = 0; i < labels.size(); ++i)
        fold_of[i] = seen[static_cast<std::size_t>(labels[i])]++ % folds;
    Matrix held_logits;
    std::vector<int> held_labels;
    for (int f = 0; f < folds; ++f) {
        std::vector<std::vector<float>> tf;
        std::vector<int> tl;
        for (std::size_t i = 0; i < labels.size(); ++i)
            if (fold_of[i] != f) tf.push_back(features[i]), tl.push_back(labels[i]);
        const Classifier part = make(tf, tl);
        for (std::size_t i = 0; i < labels.size(); ++i)
            if (fold_of[i] == f) {
                held_logits.push_back(part.logits(features[i]));
                held_labels.push_back(labels[i]);
            }
    }
    model.temperature_ = fit_temperature(held_logits, held_labels);
    return model;
}

std::vector<double> Classifier::logits(std::span<const float> features) const {
    const std::size_t d = dim();
    if (features.size() != d)
        throw Error(ErrorKind::invalid_argument,
                    "router classifier: " + std::to_string(features.size()) +
                        " feature values, expected " + std::to_string(d));
    std::vector<double> x(d);
    for (std::size_t j = 0; j < d; ++j) x[j] = (features[j] - mean_[j]) * inv_std_[j];
    std::vector<double> z(static_cast<std::size_t>(classes_));
    for (std::size_t c = 0; c < z.size(); ++c) {
        double s = biases_[c];
        const double* w = weights_.data() + c * d;
        for (std::size_t j = 0; j < d; ++j) s += w[j] * x[j];
        z[c] = s;
    }
    return z;
}

std::vector<double> Classifier::probabilities(std::span<const float> features) const {
    return softmax(logits(features), temperature_);
}

}  // namespace meswitch::router
