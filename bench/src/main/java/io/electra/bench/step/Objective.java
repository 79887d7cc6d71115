package io.electra.bench.step;

import java.util.Locale;

/** What one benchmarked step trains: ELECTRA's generator + discriminator, or the BERT masked-LM baseline. */
public enum Objective {
    /** Generator (MLM at masked positions) + discriminator (replaced-token detection), shared embeddings. */
    ELECTRA,
    /** A masked LM at the discriminator's size with BERT's 80/10/10 masking (BERT's pre-training objective). */
    MLM;

    /** The lower-case name used on the command line and in the JSON ("electra", "mlm"). */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Objective parse(String s) {
        for (Objective o : values()) if (o.key().equalsIgnoreCase(s.trim())) return o;
        throw new IllegalArgumentException("unknown objective '" + s + "'; choose electra or mlm");
    }
}
