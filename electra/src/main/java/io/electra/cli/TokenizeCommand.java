package io.electra.cli;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.electra.tokenizer.Encoding;
import io.electra.tokenizer.SpecialTokens;
import io.electra.tokenizer.Vocab;
import io.electra.tokenizer.WordPieceTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code electra tokenize}: JSON lines in ({@code {"text": ..., "text_pair": ...}}), one JSON line out
 * per input line ({@code {"tokens", "input_ids", "token_type_ids"}}). A bad line is reported on
 * standard error with its number and answered with {@code {"error": ...}}, so output line {@code n}
 * always belongs to input line {@code n}; the exit status is then 1. Blank lines are skipped.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Tokenize JSON lines {\"text\": ..., \"text_pair\": ...} from standard input with BERT WordPiece.")
final class TokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--vocab", required = true, paramLabel = "FILE", description = "BERT vocab.txt (one token per line).")
    Path vocabFile;

    @Option(names = "--cased", description = "Cased vocabulary: no lower-casing or accent stripping.")
    boolean cased;

    @Option(names = "--max-length", paramLabel = "N",
            description = "Truncate to N ids, special tokens included (HuggingFace longest_first). Default: no truncation.")
    Integer maxLength;

    @Option(names = "--special-tokens", paramLabel = "MODE", defaultValue = "ANYWHERE",
            description = "Literal [CLS] [SEP] [PAD] [UNK] [MASK] in text: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}, as BertTokenizer.from_pretrained).")
    SpecialTokens specialTokens;

    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    @Override
    public Integer call() throws IOException {
        if (maxLength != null && maxLength < 2) {
            throw new IllegalArgumentException("--max-length must be at least 2 (for [CLS] and [SEP]), got " + maxLength);
        }
        WordPieceTokenizer tok = new WordPieceTokenizer(Vocab.load(vocabFile), !cased, specialTokens);
        return run(tok, System.in, System.out);
    }

    int run(WordPieceTokenizer tok, InputStream stdin, OutputStream stdout) throws IOException {
        int errors = 0;
        InputStream in = new BufferedInputStream(stdin, 1 << 16);
        JsonGenerator out = new JsonFactory().createGenerator(new BufferedOutputStream(stdout, 1 << 16), JsonEncoding.UTF8);
        out.setRootValueSeparator(null);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        long lineNo = 0;
        boolean more = true;
        while (more) {
            line.reset();
            int b;
            while ((b = in.read()) != -1 && b != '\n') line.write(b);
            more = b != -1;
            if (!more && line.size() == 0) break;
            lineNo++;
            byte[] bytes = line.toByteArray();
            if (isBlank(bytes)) continue;
            String error = null;
            try {
                error = encodeLine(tok, bytes, out);
            } catch (IOException e) {
                error = "invalid JSON: " + e.getMessage().split("\n")[0];
            }
            if (error != null) {
                errors++;
                spec.commandLine().getErr().println("electra tokenize: line " + lineNo + ": " + error);
                out.writeStartObject();
                out.writeStringField("error", "line " + lineNo + ": " + error);
                out.writeEndObject();
            }
            out.writeRaw('\n');
        }
        out.flush();
        if (errors > 0) {
            spec.commandLine().getErr().println("electra tokenize: " + errors + " of " + lineNo + " lines could not be tokenized");
        }
        return errors == 0 ? 0 : 1;
    }

    /** Writes the encoding of one input line, or returns what is wrong with it. */
    private String encodeLine(WordPieceTokenizer tok, byte[] bytes, JsonGenerator out) throws IOException {
        JsonNode node = JSON.readTree(bytes);
        if (node == null || !node.isObject()) return "expected a JSON object {\"text\": ...}";
        JsonNode text = node.get("text");
        if (text == null || !text.isTextual()) return "field \"text\" must be a string";
        JsonNode pair = node.get("text_pair");
        if (pair != null && !pair.isNull() && !pair.isTextual()) return "field \"text_pair\" must be a string";
        String b = pair == null || pair.isNull() ? null : pair.asText();
        if (maxLength != null && b != null && maxLength < 3) return "--max-length " + maxLength + " is too short for a pair";
        Encoding e = tok.encode(text.asText(), b, maxLength == null ? Integer.MAX_VALUE : maxLength);
        out.writeStartObject();
        out.writeArrayFieldStart("tokens");
        for (String t : e.tokens()) out.writeString(t);
        out.writeEndArray();
        out.writeFieldName("input_ids");
        out.writeArray(e.ids(), 0, e.ids().length);
        out.writeFieldName("token_type_ids");
        out.writeArray(e.typeIds(), 0, e.typeIds().length);
        out.writeEndObject();
        return null;
    }

    private static boolean isBlank(byte[] bytes) {
        for (byte x : bytes) if (x != ' ' && x != '\t' && x != '\r') return false;
        return true;
    }
}
