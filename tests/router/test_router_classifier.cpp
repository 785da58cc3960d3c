// The router's classifier without a model: training and prediction on synthetic features,
// calibrated confidences, the catalog blob and bad input.
#include <QtTest>

#include <cmath>
#include <random>

#include "meswitch/error.h"
#include "router/classifier.h"

using namespace meswitch;
using router::Classifier;

namespace {

struct Data {
    std::vector<std::vector<float>> x;
    std::vector<int> y;
};

// `classes` Gaussian clusters in `dim` dimensions, centres `spread` apart on the axes.
Data clusters(int classes, int per_class, int dim, double spread, double noise, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> n(0.0, noise);
    Data d;
    for (int c = 0; c < classes; ++c)
        for (int i = 0; i < per_class; ++i) {
            std::vector<float> row(static_cast<std::size_t>(dim));
            for (int j = 0; j < dim; ++j)
                row[static_cast<std::size_t>(j)] =
                    static_cast<float>((j % classes == c ? spread : 0.0) + n(rng) + 3.0 * j);
            d.x.push_back(std::move(row));
            d.y.push_back(c);
        }
    return d;
}

int argmax(const std::vector<double>& p) {
    return static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
}

}  // namespace

class TestRouterClassifier : public QObject {
    Q_OBJECT

private slots:
    void separable_features_are_learned() {
        const Data train = clusters(3, 30, 12, 4.0, 1.0, 1);
        const Data test = clusters(3, 100, 12, 4.0, 1.0, 2);
        const Classifier c = Classifier::train(train.x, train.y, 3);
        QCOMPARE(c.classes(), 3);
        QCOMPARE(c.dim(), std::size_t{12});
        int right = 0;
        for (std::size_t i = 0; i < train.x.size(); ++i)
            right += argmax(c.probabilities(train.x[i])) == train.y[i];
        QCOMPARE(right, static_cast<int>(train.x.size()));
        right = 0;
        for (std::size_t i = 0; i < test.x.size(); ++i)
            right += argmax(c.probabilities(test.x[i])) == test.y[i];
        QVERIFY2(right >= 295, qPrintable(QString("held-out %1/300").arg(right)));
    }

    void confidences_sum_to_one_and_are_sane() {
        const Data train = clusters(3, 30, 12, 4.0, 1.0, 3);
        const Classifier c = Classifier::train(train.x, train.y, 3);
        QVERIFY(c.temperature() >= 0.05 && c.temperature() <= 20);
        for (const auto& row : train.x) {
            const auto p = c.probabilities(row);
            QCOMPARE(p.size(), std::size_t{3});
            double s = 0;
            for (double v : p) {
                QVERIFY(v >= 0 && v <= 1 && std::isfinite(v));
                s += v;
            }
            QVERIFY(std::abs(s - 1) < 1e-12);
        }
        // A cluster centre is confident; the midpoint of two centres is not.
        std::vector<float> centre(12), middle(12);
        for (int j = 0; j < 12; ++j) {
            centre[static_cast<std::size_t>(j)] =
                static_cast<float>((j % 3 == 0 ? 4.0 : 0.0) + 3.0 * j);
            middle[static_cast<std::size_t>(j)] =
                static_cast<float>((j % 3 == 0 || j % 3 == 1 ? 2.0 : 0.0) + 3.0 * j);
        }
        const auto pc = c.probabilities(centre), pm = c.probabilities(middle);
        QVERIFY2(pc[0] > 0.9, qPrintable(QString::number(pc[0])));
        QVERIFY2(std::max(pm[0], pm[1]) < 0.85, qPrintable(QString("%1 %2").arg(pm[0]).arg(pm[1])));
        QVERIFY(pm[2] < pm[0] && pm[2] < pm[1]);
    }

    // On overlapping classes the held-out mean confidence tracks the held-out accuracy.
    void temperature_calibrates_overlapping_classes() {
        const Data train = clusters(3, 60, 8, 2.0, 1.0, 5);
        const Data test = clusters(3, 400, 8, 2.0, 1.0, 6);
        const Classifier c = Classifier::train(train.x, train.y, 3);
        double confidence = 0;
        int right = 0;
        for (std::size_t i = 0; i < test.x.size(); ++i) {
            const auto p = c.probabilities(test.x[i]);
            confidence += *std::max_element(p.begin(), p.end());
            right += argmax(p) == test.y[i];
        }
        const double n = static_cast<double>(test.x.size());
        const double acc = right / n, conf = confidence / n;
        QVERIFY2(acc > 0.6 && acc < 0.99, qPrintable(QString::number(acc)));
        QVERIFY2(std::abs(conf - acc) < 0.1,
                 qPrintable(QString("mean confidence %1, accuracy %2").arg(conf).arg(acc)));
    }

    void blob_round_trip() {
        const Data train = clusters(4, 10, 6, 4.0, 1.0, 7);
        const Classifier c = Classifier::train(train.x, train.y, 4);
        const auto blob = c.serialize();
        const Classifier back = Classifier::deserialize(blob);
        QCOMPARE(back.classes(), 4);
        QCOMPARE(back.dim(), std::size_t{6});
        QCOMPARE(back.temperature(), c.temperature());
        for (const auto& row : train.x) QCOMPARE(back.probabilities(row), c.probabilities(row));
        QCOMPARE(back.serialize(), blob);
    }

    void corrupt_blobs_are_refused_clearly() {
        const Data train = clusters(2, 8, 4, 4.0, 1.0, 8);
        const auto blob = Classifier::train(train.x, train.y, 2).serialize();
        auto expect = [](std::vector<std::uint8_t> b, const char* words) {
            try {
                Classifier::deserialize(b);
                QFAIL("a damaged blob was accepted");
            } catch (const Error& e) {
                QCOMPARE(e.kind(), ErrorKind::format);
                QVERIFY2(QString(e.what()).contains(words), e.what());
            }
        };
        auto flipped = blob;
        flipped[blob.size() / 2] ^= 0x40;
        expect(flipped, "checksum");
        expect(std::vector<std::uint8_t>(blob.begin(), blob.begin() + 10), "too short");
        expect({}, "too short");
        auto magic = blob;
        magic[0] = 'X';
        expect(magic, "magic");
        expect(std::vector<std::uint8_t>(blob.begin(), blob.end() - 9), "checksum");
    }

    void bad_training_input_is_an_error() {
        const Data d = clusters(2, 5, 3, 4.0, 1.0, 9);
        auto expect = [](auto&& call) {
            try {
                call();
                QFAIL("bad input was accepted");
            } catch (const Error& e) {
                QCOMPARE(e.kind(), ErrorKind::invalid_argument);
            }
        };
        expect([&] { Classifier::train({}, {}, 2); });
        expect([&] { Classifier::train(d.x, std::vector<int>(d.y.begin(), d.y.end() - 1), 2); });
        expect([&] { Classifier::train(d.x, d.y, 3); });  // class 2 has no examples
        auto nan = d.x;
        nan[1][0] = NAN;
        expect([&] { Classifier::train(nan, d.y, 2); });
        auto ragged = d.x;
        ragged[2].push_back(1);
        expect([&] { Classifier::train(ragged, d.y, 2); });
        const Classifier c = Classifier::train(d.x, d.y, 2);
        expect([&] { c.probabilities(std::vector<float>(4)); });
    }

    void constant_features_and_one_example_per_class() {
        // Constant features carry nothing and must not divide by zero; one example per class
        // leaves no folds for calibration (temperature 1).
        std::vector<std::vector<float>> x = {{1, 5, 0}, {1, 5, 1}};
        const Classifier c = Classifier::train(x, {0, 1}, 2);
        QCOMPARE(c.temperature(), 1.0);
        const auto p = c.probabilities(std::vector<float>{1, 5, 1});
        QVERIFY(p[1] > p[0]);
    }

    void softmax_is_stable() {
        const std::vector<double> big = {1000, 999, -1000};
        const auto p = router::softmax(big);
        QVERIFY(std::isfinite(p[0]) && std::abs(p[0] + p[1] + p[2] - 1) < 1e-12);
        QVERIFY(p[0] > p[1] && p[2] < 1e-300 + 1e-12);
    }
};

QTEST_GUILESS_MAIN(TestRouterClassifier)
#include "test_router_classifier.moc"
