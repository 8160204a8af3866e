module emutest/tcpnet

go 1.19
