// The program a layer's link check links its whole archive into (tests/layering).
int main() { return 0; }
