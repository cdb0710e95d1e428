package io.imsrc.ingest.source.bulk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.common.io.Downloads;
import io.imsrc.ingest.source.bulk.format.Cifar10Binary;
import io.imsrc.ingest.source.bulk.format.Container;
import io.imsrc.testing.CifarData;
import io.imsrc.testing.LocalHttpServer;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BulkSourceResolverTest {

    @TempDir Path temp;

    @Test
    void containers_are_told_apart_by_content_not_by_name() throws IOException {
        Map<String, byte[]> files = Map.of("a/1.jpg", "x".getBytes(StandardCharsets.US_ASCII));
        Path gz = CifarData.writeTar(temp.resolve("named.zip"), files, true);
        Path tar = CifarData.writeTar(temp.resolve("plain.bin"), files, false);
        Path zip = CifarData.writeZip(temp.resolve("archive.tar.gz"), files);
        Path text = Files.writeString(temp.resolve("notes.tar"), "just text");

        assertThat(resolve(gz)).extracting(ResolvedBulkSource::container, ResolvedBulkSource::gzip)
                .containsExactly(Container.TAR, true);
        assertThat(resolve(tar)).extracting(ResolvedBulkSource::container, ResolvedBulkSource::gzip)
                .containsExactly(Container.TAR, false);
        assertThat(resolve(zip).container()).isEqualTo(Container.ZIP);
        assertThat(resolve(temp).container()).isEqualTo(Container.DIRECTORY);
        assertThatThrownBy(() -> resolve(text)).hasMessageContaining("neither a folder nor an archive");
        assertThatThrownBy(() -> resolve(temp.resolve("missing"))).hasMessageContaining("missing");
        assertThatThrownBy(() -> BulkSourceResolver.resolve(new BulkSourceSpec(gz.toString(), "", true, 0), temp, 10))
                .hasMessageContaining("only a folder can be watched");
    }

    private ResolvedBulkSource resolve(Path location) throws IOException {
        return BulkSourceResolver.resolve(BulkSourceSpec.parse(location.toString()), temp.resolve("cache"), 10);
    }

    @Test
    void a_url_is_downloaded_into_the_cache_once_and_checked_against_its_known_md5() throws Exception {
        Path archive = CifarData.writeTar(temp.resolve("served.tar.gz"),
                Map.of("cifar-10-jpg/train/cat/1.jpg", "x".getBytes(StandardCharsets.US_ASCII)), true);
        byte[] content = Files.readAllBytes(archive);
        String md5 = Downloads.md5(archive);
        try (LocalHttpServer server = LocalHttpServer.serving("/cifar.tar.gz", content)) {
            String url = server.url();
            Path cache = temp.resolve("cache");

            assertThatThrownBy(() -> BulkSourceResolver.resolve(BulkSourceSpec.parse(url), cache, 100,
                    uri -> "0123456789abcdef0123456789abcdef"))
                    .hasMessageContaining("MD5 " + md5)
                    .hasMessageContaining(url)
                    .hasMessageContaining("put it at " + Downloads.cachePath(java.net.URI.create(url), cache).toAbsolutePath())
                    .hasMessageContaining("give its path instead of the URL")
                    .hasMessageContaining("CIFAR10_SOURCE=");
            try (var cached = Files.list(cache)) {
                assertThat(cached).as("nothing kept of the bad download").isEmpty();
            }

            ResolvedBulkSource resolved = BulkSourceResolver.resolve(BulkSourceSpec.parse(url + "#cifar-10-jpg/train"),
                    cache, 100, uri -> md5);
            BulkSourceResolver.resolve(BulkSourceSpec.parse(url), cache, 100, uri -> md5);

            assertThat(Path.of(resolved.path())).hasBinaryContent(content).startsWith(cache.toAbsolutePath());
            assertThat(resolved.root()).isEqualTo("cifar-10-jpg/train");
            assertThat(server.requests()).as("one failed and one good download, then the cache").isEqualTo(2);
        }
    }

    @Test
    void the_official_cifar_archive_is_checked_against_its_published_md5() {
        assertThat(Cifar10Binary.knownMd5(URI.create("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz")))
                .isEqualTo("c32a1d4ab5d03f1284b67883e8d87530");
        assertThat(Cifar10Binary.knownMd5(URI.create("http://127.0.0.1/cifar-10-binary.tar.gz"))).isNull();
    }
}
