package io.electra.glue;

/** A score GLUE reports for a task; {@link #key()} names it in metric maps and JSON lines. */
public enum GlueMetric {
    /** Matthews correlation coefficient (CoLA). */
    MCC("mcc"),
    ACCURACY("accuracy"),
    /** F1 of the positive class, label {@code 1} (MRPC, QQP). */
    F1("f1"),
    PEARSON("pearson"),
    /** Spearman rank correlation, tied values sharing their average rank (STS-B). */
    SPEARMAN("spearman"),
    /** The mean of a task's two scores, the number the GLUE leaderboard averages for MRPC, QQP and STS-B. */
    COMBINED("combined");

    private final String key;

    GlueMetric(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }
}
