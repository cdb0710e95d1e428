package io.imsrc.ingest.source.bulk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imsrc.common.record.Rejection;
import io.imsrc.common.record.SourceKind;
import io.imsrc.ingest.record.RawImage;
import io.imsrc.ingest.source.bulk.reader.BulkSplitReader;
import io.imsrc.ingest.source.bulk.split.BulkSplit;
import io.imsrc.testing.CifarData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.connector.base.source.reader.RecordsWithSplitIds;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsAddition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Planning and reading bulk sources without Flink: the planner's splits read by the split reader. */
class BulkPlannerTest {

    private static final long MAX_BYTES = 1 << 20;

    @TempDir Path temp;

    /** Files named by class, with content that says which file they are. */
    private static Map<String, byte[]> files(String prefix, int perClass, String... classes) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String c : classes) {
            for (int i = 0; i < perClass; i++) {
                files.put(prefix + c + "/" + i + ".jpg", (c + i).getBytes(StandardCharsets.US_ASCII));
            }
        }
        return files;
    }

    private static ResolvedBulkSource resolve(Path location, String root, long limit) throws IOException {
        return BulkSourceResolver.resolve(new BulkSourceSpec(location.toString(), root, false, limit), Path.of("cache"),
                MAX_BYTES);
    }

    /** Reads splits to their end and returns the images, as a source reader would. */
    private static List<RawImage> readAll(List<BulkSplit> splits) throws IOException {
        List<RawImage> images = new ArrayList<>();
        BulkImages.readSplits(splits, MAX_BYTES, images::add);
        return images;
    }

    private static List<String> names(List<RawImage> images) {
        return images.stream().map(i -> i.meta().originalName()).toList();
    }

    @Test
    void a_folder_is_cut_into_runs_of_files_and_read_with_labels() throws IOException {
        Path folder = CifarData.writeFolder(temp.resolve("f"), files("train/", 200, "cat", "dog"));
        CifarData.writeFolder(folder, files("test/", 1, "cat"));

        BulkPlanner.Plan plan = BulkPlanner.plan(resolve(folder, "train", 0));

        assertThat(plan.imageCount()).isEqualTo(400);
        assertThat(plan.splits()).hasSize(2); // 256 + 144
        assertThat(plan.splits().get(0).files()).hasSize(BulkPlanner.FILES_PER_SPLIT);
        List<RawImage> images = readAll(plan.splits());
        assertThat(images).hasSize(400);
        assertThat(images).allSatisfy(image -> {
            assertThat(image.meta().source()).isEqualTo(SourceKind.FOLDER);
            assertThat(image.meta().originalName()).startsWith("train/" + image.label() + "/");
            assertThat(image.meta().recordKey()).isEqualTo(folder + "#" + image.meta().originalName());
            assertThat(new String(image.bytes(), StandardCharsets.US_ASCII)).startsWith(image.label());
            assertThat(image.meta().imageId()).isPositive();
        });
    }

    @Test
    void a_limit_picks_entries_spread_evenly_over_the_source() throws IOException {
        Path folder = CifarData.writeFolder(temp.resolve("f"), files("", 100, "a", "b", "c", "d"));
        Path tar = CifarData.writeTar(temp.resolve("x.tar.gz"), files("top/", 100, "a", "b", "c", "d"), true);

        for (ResolvedBulkSource source : List.of(resolve(folder, "", 8), resolve(tar, "top", 8))) {
            BulkPlanner.Plan plan = BulkPlanner.plan(source);
            assertThat(plan.imageCount()).isEqualTo(8);
            List<RawImage> images = readAll(plan.splits());
            assertThat(images).extracting(RawImage::label).containsExactly("a", "a", "b", "b", "c", "c", "d", "d");
        }
        assertThat(BulkPlanner.spread(10, 0)).isNull();
        assertThat(BulkPlanner.spread(10, 10)).isNull();
        assertThat(BulkPlanner.spread(10, 4)).containsExactly(0, 2, 5, 7);
    }

    @Test
    void archives_skip_directories_hidden_files_and_entries_outside_the_root() throws IOException {
        Map<String, byte[]> content = new LinkedHashMap<>();
        content.put("data/", null);
        content.put("data/cat/", null);
        content.put("data/cat/1.jpg", "cat1".getBytes(StandardCharsets.US_ASCII));
        content.put("data/.DS_Store", "x".getBytes(StandardCharsets.US_ASCII));
        content.put("__MACOSX/data/cat/._1.jpg", "x".getBytes(StandardCharsets.US_ASCII));
        content.put("data/root-level.jpg", "top".getBytes(StandardCharsets.US_ASCII));
        content.put("other/dog/2.jpg", "dog2".getBytes(StandardCharsets.US_ASCII));
        for (Path archive : List.of(CifarData.writeTar(temp.resolve("a.tar"), content, false),
                CifarData.writeZip(temp.resolve("a.zip"), content))) {
            ResolvedBulkSource source = resolve(archive, "data", 0);

            List<RawImage> images = readAll(BulkPlanner.plan(source).splits());

            assertThat(names(images)).containsExactly("data/cat/1.jpg", "data/root-level.jpg");
            assertThat(images.get(0).label()).isEqualTo("cat");
            assertThat(images.get(1).label()).as("an image directly under the root has no label").isNull();
            assertThat(BulkPlanner.plan(resolve(archive, "", 0)).imageCount()).isEqualTo(3);
        }
    }

    @Test
    void a_root_that_selects_nothing_is_reported_with_what_the_archive_holds() throws IOException {
        Path tar = CifarData.writeTar(temp.resolve("a.tar.gz"), files("cifar-10-jpg/train/", 1, "cat"), true);
        assertThatThrownBy(() -> BulkPlanner.plan(resolve(tar, "cifar10/train", 0)))
                .hasMessageContaining("cifar10/train")
                .hasMessageContaining("cifar-10-jpg/");
    }

    @Test
    void a_split_resumes_at_its_position_without_repeating_or_losing_an_entry() throws IOException {
        Path tar = CifarData.writeTar(temp.resolve("a.tar.gz"), files("", 150, "cat"), true);
        BulkSplit split = BulkPlanner.plan(resolve(tar, "", 0)).splits().get(0);
        List<RawImage> all = readAll(List.of(split));

        // Read the first fetch only, then restore from the position the reader reported.
        BulkSplitReader reader = new BulkSplitReader(MAX_BYTES);
        reader.handleSplitsChanges(new SplitsAddition<>(List.of(split)));
        RecordsWithSplitIds<BulkSplitReader.PositionedImage> fetch = reader.fetch();
        fetch.nextSplit();
        List<RawImage> head = new ArrayList<>();
        long position = 0;
        BulkSplitReader.PositionedImage record;
        while ((record = fetch.nextRecordFromSplit()) != null) {
            head.add(record.image());
            position = record.nextPosition();
        }
        reader.close();
        List<RawImage> tail = readAll(List.of(split.withPosition(position)));

        assertThat(head).hasSize(BulkSplitReader.RECORDS_PER_FETCH);
        List<String> resumed = new ArrayList<>(names(head));
        resumed.addAll(names(tail));
        assertThat(resumed).containsExactlyElementsOf(names(all)).hasSize(150);
    }

    @Test
    void oversized_and_vanished_files_become_rejected_images() throws IOException {
        Path folder = CifarData.writeFolder(temp.resolve("f"), Map.of(
                "cat/big.jpg", new byte[(int) MAX_BYTES + 1],
                "cat/gone.jpg", "x".getBytes(StandardCharsets.US_ASCII),
                "cat/ok.jpg", "ok".getBytes(StandardCharsets.US_ASCII)));
        List<BulkSplit> splits = BulkPlanner.plan(resolve(folder, "", 0)).splits();
        Files.delete(folder.resolve("cat/gone.jpg"));

        Map<String, Rejection> outcome = new LinkedHashMap<>();
        for (RawImage image : readAll(splits)) {
            outcome.put(image.meta().originalName(), image.rejection());
        }

        assertThat(outcome).containsEntry("cat/big.jpg", Rejection.TOO_LARGE)
                .containsEntry("cat/gone.jpg", Rejection.UNREADABLE)
                .containsEntry("cat/ok.jpg", null);
    }

    @Test
    void the_cifar_binary_archive_is_one_split_per_batch_with_its_labels() throws Exception {
        List<CifarData.BinaryRecord> records = CifarData.records(CifarData.sample("train", 2));
        Map<String, List<CifarData.BinaryRecord>> batches = new LinkedHashMap<>();
        batches.put("data_batch_1.bin", records.subList(0, 10));
        batches.put("data_batch_2.bin", records.subList(10, 20));
        batches.put("test_batch.bin", records.subList(0, 5));
        Path archive = CifarData.writeBinaryArchive(temp.resolve("cifar-10-binary.tar.gz"), batches);

        BulkPlanner.Plan train = BulkPlanner.plan(resolve(archive, "train", 0));
        BulkPlanner.Plan test = BulkPlanner.plan(resolve(archive, "test", 0));
        BulkPlanner.Plan all = BulkPlanner.plan(resolve(archive, "", 0));
        BulkPlanner.Plan limited = BulkPlanner.plan(resolve(archive, "", 5));

        assertThat(train.splits()).extracting(BulkSplit::member).containsExactly(
                "cifar-10-batches-bin/data_batch_1.bin", "cifar-10-batches-bin/data_batch_2.bin");
        assertThat(train.imageCount()).isEqualTo(20);
        assertThat(test.imageCount()).isEqualTo(5);
        assertThat(all.imageCount()).isEqualTo(25);
        assertThat(limited.imageCount()).isEqualTo(5);
        List<RawImage> images = readAll(train.splits());
        assertThat(images).extracting(RawImage::label).containsExactlyElementsOf(
                CifarData.sample("train", 2).stream().map(CifarData.Sample::category).toList());
        assertThat(images.get(11).meta().originalName()).isEqualTo("cifar-10-batches-bin/data_batch_2.bin#1");
        assertThat(images.get(11).encoding()).isEqualTo(RawImage.Encoding.CIFAR_PIXELS);
        assertThat(images.get(11).bytes()).isEqualTo(records.get(11).pixels());
        assertThat(readAll(limited.splits())).hasSize(5);
        assertThatThrownBy(() -> BulkPlanner.plan(resolve(archive, "validation", 0))).hasMessageContaining("train");

        // Unpacked, the same batches read the same.
        Path unpacked = temp.resolve("unpacked/cifar-10-batches-bin");
        Files.createDirectories(unpacked);
        for (var batch : batches.entrySet()) {
            var bytes = new java.io.ByteArrayOutputStream();
            for (CifarData.BinaryRecord r : batch.getValue()) {
                bytes.write(r.label());
                bytes.write(r.pixels());
            }
            Files.write(unpacked.resolve(batch.getKey()), bytes.toByteArray());
        }
        Files.writeString(unpacked.resolve("batches.meta.txt"),
                String.join("\n", io.imsrc.common.embed.ModelDescription.CIFAR10_LABELS));
        List<RawImage> fromFolder = readAll(BulkPlanner.plan(resolve(unpacked.getParent(), "train", 0)).splits());
        assertThat(fromFolder).extracting(RawImage::label).containsExactlyElementsOf(
                images.stream().map(RawImage::label).toList());
    }
}
