module emutest/unixnet

go 1.19
