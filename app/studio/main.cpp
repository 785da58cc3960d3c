// meswitch-studio: the ME-Switch Studio desktop application.
#include <QApplication>

#include "studio_app.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    return Studio::runStudio(app);
}
