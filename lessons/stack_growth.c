/* Lesson: stack growth. Each call takes an 8 KiB frame and touches it, so the stack VMA grows
 * down page by page (expand_stack) as the recursion deepens. */
#include <stdio.h>
#include <string.h>

static unsigned dive(unsigned depth) {
    volatile char frame[8192];
    memset((char *)frame, (int)depth, sizeof frame);
    if (depth == 0) return frame[0];
    return dive(depth - 1) + frame[100];
}

int main(void) {
    printf("sum %u\n", dive(64));
    return 0;
}
