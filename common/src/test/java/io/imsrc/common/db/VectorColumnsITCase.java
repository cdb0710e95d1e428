package io.imsrc.common.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.imsrc.embedded.EmbeddedPostgresServer;
import io.imsrc.embedded.SharedPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.postgresql.PGResultSetMetaData;

/**
 * Vector columns read in binary against the real PostgreSQL: in binary on the first execution,
 * the same floats as text gives, NULL as null.
 */
class VectorColumnsITCase {

    @Test
    void binary_reads_give_the_floats_text_reads_give_and_null_for_null() throws Exception {
        EmbeddedPostgresServer.Database db = SharedPostgres.createDatabase("vectorcolumns");
        try (Connection c = db.dataSource().getConnection()) {
            try (var s = c.createStatement()) {
                s.execute("CREATE TABLE v (id int PRIMARY KEY, embedding real[])");
                // Values a text round trip could get wrong: the smallest normal and subnormal, a
                // negative zero, an odd mantissa.
                s.execute("INSERT INTO v VALUES (1, '{1.17549435e-38, 1.4e-45, -0, 0.1, 3.4028235e38}'::real[]),"
                        + " (2, NULL), (3, '{}'::real[])");
            }
            c.setAutoCommit(false);
            List<float[]> text = read(c, false);
            List<float[]> binary = read(c, true);
            c.rollback();

            assertThat(binary.get(0)).containsExactly(1.17549435E-38f, 1.4E-45f, -0.0f, 0.1f, 3.4028235E38f);
            assertThat(Float.floatToRawIntBits(binary.get(0)[2])).isEqualTo(Float.floatToRawIntBits(-0.0f));
            assertThat(binary.get(1)).isNull();
            assertThat(binary.get(2)).isEmpty();
            assertThat(binary.get(0)).containsExactly(text.get(0));
        }
    }

    private static List<float[]> read(Connection c, boolean inBinary) throws Exception {
        try (PreparedStatement s = c.prepareStatement("SELECT embedding FROM v ORDER BY id")) {
            if (inBinary) {
                VectorColumns.readInBinary(s, 2);
            } else {
                s.setFetchSize(2);
            }
            List<float[]> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                assertThat(rs.getMetaData().unwrap(PGResultSetMetaData.class).getFormat(1))
                        .as("0 text, 1 binary").isEqualTo(inBinary ? 1 : 0);
                while (rs.next()) {
                    rows.add(VectorColumns.floats(rs.getArray(1)));
                }
            }
            return rows;
        }
    }
}
