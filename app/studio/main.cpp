#include <QApplication>
#include <QLabel>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QLabel label("ME-Switch Studio");
    label.show();
    return app.exec();
}
