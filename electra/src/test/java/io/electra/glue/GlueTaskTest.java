package io.electra.glue;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GlueTaskTest {

    @Test
    void namesResolveWithOrWithoutHyphenInAnyCase() {
        assertSame(GlueTask.SST2, GlueTask.fromName("sst2"));
        assertSame(GlueTask.SST2, GlueTask.fromName("SST-2"));
        assertSame(GlueTask.STSB, GlueTask.fromName("sts-b"));
        assertSame(GlueTask.MNLI, GlueTask.fromName(" MNLI "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GlueTask.fromName("squad"));
        assertTrue(e.getMessage().contains("squad") && e.getMessage().contains("wnli"), e.getMessage());
    }

    @Test
    void labelsAndOutputWidthsAreGlues() {
        assertEquals(List.of("0", "1"), GlueTask.COLA.labels());
        assertEquals(List.of("contradiction", "entailment", "neutral"), GlueTask.MNLI.labels());
        assertEquals(List.of("entailment", "not_entailment"), GlueTask.QNLI.labels());
        assertEquals(List.of("entailment", "not_entailment"), GlueTask.RTE.labels());
        assertTrue(GlueTask.STSB.isRegression());
        assertEquals(1, GlueTask.STSB.numOutputs());
        assertEquals(3, GlueTask.MNLI.numOutputs());
        for (GlueTask t : List.of(GlueTask.COLA, GlueTask.SST2, GlueTask.MRPC, GlueTask.QQP, GlueTask.QNLI,
                GlueTask.RTE, GlueTask.WNLI)) {
            assertEquals(2, t.numOutputs(), t.name());
            assertFalse(t.isRegression(), t.name());
        }
    }

    @Test
    void metricsAndSelectionFollowGlue() {
        assertEquals(List.of(GlueMetric.MCC), GlueTask.COLA.metrics());
        assertEquals(List.of(GlueMetric.F1, GlueMetric.ACCURACY, GlueMetric.COMBINED), GlueTask.MRPC.metrics());
        assertEquals(List.of(GlueMetric.PEARSON, GlueMetric.SPEARMAN, GlueMetric.COMBINED), GlueTask.STSB.metrics());
        assertEquals(GlueMetric.COMBINED, GlueTask.QQP.selectionMetric());
        assertEquals(GlueMetric.ACCURACY, GlueTask.MNLI.selectionMetric());
        for (GlueTask t : GlueTask.values()) {
            assertTrue(t.metrics().contains(t.selectionMetric()), t.name());
        }
    }

    @Test
    void epochsAreTenForRteAndStsbElseThree() {
        for (GlueTask t : GlueTask.values()) {
            int expected = t == GlueTask.RTE || t == GlueTask.STSB ? 10 : 3;
            assertEquals(expected, t.defaultEpochs(), t.name());
        }
    }

    @Test
    void onlyMrpcAndStsbTrainOnSwappedPairs() {
        Set<GlueTask> swapping = Arrays.stream(GlueTask.values()).filter(GlueTask::trainsOnSwappedPairs)
                .collect(Collectors.toSet());
        assertEquals(Set.of(GlueTask.MRPC, GlueTask.STSB), swapping);

        GlueExample a = new GlueExample(2, "first", "second", "1", 1, Float.NaN, null);
        GlueExample b = new GlueExample(3, "third", "fourth", "0", 0, Float.NaN, null);
        List<GlueExample> doubled = GlueTask.MRPC.trainingExamples(List.of(a, b));
        assertEquals(List.of(a, b, new GlueExample(2, "second", "first", "1", 1, Float.NaN, null),
                new GlueExample(3, "fourth", "third", "0", 0, Float.NaN, null)), doubled);
        assertEquals(List.of(a, b), GlueTask.RTE.trainingExamples(List.of(a, b)));
    }

    @Test
    void submissionFilesAreTheNamesTheGlueServerExpects() {
        List<String> names = Arrays.stream(GlueTask.values()).flatMap(t -> t.splits().stream())
                .map(GlueSplit::submissionFile).toList();
        assertEquals(List.of("CoLA.tsv", "SST-2.tsv", "MRPC.tsv", "STS-B.tsv", "QQP.tsv", "MNLI-m.tsv",
                "MNLI-mm.tsv", "QNLI.tsv", "RTE.tsv", "WNLI.tsv"), names);
    }

    @Test
    void mnliHasMatchedAndMismatchedSplits() {
        assertEquals(List.of(
                        new GlueSplit("MNLI-m", "dev_matched.tsv", "test_matched.tsv", "MNLI-m.tsv"),
                        new GlueSplit("MNLI-mm", "dev_mismatched.tsv", "test_mismatched.tsv", "MNLI-mm.tsv")),
                GlueTask.MNLI.splits());
        assertEquals(List.of(new GlueSplit("RTE", "dev.tsv", "test.tsv", "RTE.tsv")), GlueTask.RTE.splits());
    }

    @Test
    void onlyColaAndSst2AreSingleSentenceTasks() {
        for (GlueTask t : GlueTask.values()) {
            boolean single = t == GlueTask.COLA || t == GlueTask.SST2;
            assertEquals(!single, t.isPairTask(), t.name());
            assertEquals(t.isPairTask(), t.testLayout().textB() != null, t.name());
        }
    }

    @Test
    void testLayoutsHaveAnIndexAndNoLabel() {
        for (GlueTask t : GlueTask.values()) {
            assertEquals(t == GlueTask.QQP ? "id" : "index", t.testLayout().id(), t.name());
            assertEquals(null, t.testLayout().label(), t.name());
            assertTrue(t.testLayout().hasHeaderRow(), t.name());
        }
        assertFalse(GlueTask.COLA.labelledLayout().hasHeaderRow());
    }
}
