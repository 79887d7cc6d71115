package io.electra.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.electra.engine.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line as a user meets it: exit codes, output lines and error messages. */
class ElectraCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Result(int exit, String out, String err) {
    }

    private static Result run(String stdin, String... args) {
        InputStream oldIn = System.in;
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            CommandLine cl = ElectraCli.commandLine();
            cl.setErr(new PrintWriter(err, true));
            cl.setOut(new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true));
            int exit = cl.execute(args);
            return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setIn(oldIn);
            System.setOut(oldOut);
        }
    }

    private static String vocab() {
        return SharedData.path("data/vocab/bert-base-uncased-vocab.txt").toString();
    }

    @Test
    void tokenizeWritesOneLinePerInputAndReportsBadLinesByNumber() throws Exception {
        String in = "{\"text\": \"The sailors rode the breeze clear of the rocks.\"}\n"
                + "{\"text\": broken\n"
                + "{\"text\": \"a[MASK]b\", \"text_pair\": \"\"}\n"
                + "{\"text_pair\": \"no text\"}\n"
                + "{\"text\": \"x\"} trailing\n";
        Result r = run(in, "tokenize", "--vocab", vocab());
        assertEquals(1, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(5, lines.size(), r.out());
        JsonNode first = JSON.readTree(lines.get(0));
        // From the HF fixture (record 0).
        assertEquals("[101,1996,11279,8469,1996,9478,3154,1997,1996,5749,1012,102]", first.get("input_ids").toString());
        assertEquals("[\"[CLS]\",\"a\",\"[MASK]\",\"b\",\"[SEP]\",\"[SEP]\"]", JSON.readTree(lines.get(2)).get("tokens").toString());
        assertEquals("[0,0,0,0,0,1]", JSON.readTree(lines.get(2)).get("token_type_ids").toString());
        assertTrue(JSON.readTree(lines.get(1)).get("error").asText().startsWith("line 2:"), lines.get(1));
        assertTrue(r.err().contains("line 2:") && r.err().contains("line 4:") && r.err().contains("line 5:"), r.err());
        assertTrue(r.err().contains("3 of 5 lines"), r.err());
    }

    @Test
    void tokenizeTruncatesWithMaxLength() throws Exception {
        Result r = run("{\"text\": \"one two three four\", \"text_pair\": \"five six\"}\n", "tokenize", "--vocab", vocab(), "--max-length", "6");
        assertEquals(0, r.exit(), r.err());
        assertEquals("[\"[CLS]\",\"one\",\"two\",\"[SEP]\",\"five\",\"[SEP]\"]", JSON.readTree(r.out()).get("tokens").toString());
    }

    @Test
    void everyCommandHasHelp() {
        for (String cmd : new String[]{"tokenize", "prepare"}) {
            Result r = run("", cmd, "--help");
            assertEquals(0, r.exit(), cmd + ": " + r.err());
            assertTrue(r.out().contains("--vocab"), cmd + " help: " + r.out());
        }
        assertEquals(0, run("", "--help").exit());
    }

    @Test
    void missingVocabIsOneLineNamingTheFile(@TempDir Path tmp) {
        Path v = tmp.resolve("nope.txt");
        Result r = run("", "tokenize", "--vocab", v.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains(v.toString()) && !r.err().contains("\tat "), r.err());
    }

    @Test
    void prepareWritesADataset(@TempDir Path tmp) throws Exception {
        Path corpus = tmp.resolve("c.txt");
        Files.writeString(corpus, "A first line of text.\nAnd a second one.\n\nAnother document here.\n");
        Result r = run("", "prepare", "--corpus", corpus.toString(), "--vocab", vocab(), "--out", tmp.resolve("out").toString(),
                "--max-length", "16", "--threads", "1");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("prepared 2 rows"), r.out());
        Result again = run("", "prepare", "--corpus", corpus.toString(), "--vocab", vocab(), "--out", tmp.resolve("out").toString());
        assertEquals(1, again.exit());
        assertTrue(again.err().contains("--overwrite"), again.err());
    }
}
