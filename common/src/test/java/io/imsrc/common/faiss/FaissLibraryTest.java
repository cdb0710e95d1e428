package io.imsrc.common.faiss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;

/**
 * The mapping itself, below the facade, in the manner of JavaCPP's own AdapterTest: load
 * the JNI library the way users get it (from the class path, built by the javacpp plugin),
 * then round-trip values through C++.
 */
class FaissLibraryTest {

    @Test
    void the_jni_library_loads_from_the_class_path() {
        String path = Loader.load(FaissLibrary.class);

        assertThat(path).endsWith("libjniFaissLibrary.so");
    }

    @Test
    void data_members_and_calls_round_trip_through_cpp() {
        FaissLibrary.Index index = FaissLibrary.index_factory(3, "Flat", FaissLibrary.METRIC_L2);
        try {
            index.add(2, new float[] {1, 2, 3, 4, 5, 6});
            float[] back = new float[3];
            index.reconstruct(1, back);

            assertThat(index.d()).isEqualTo(3);
            assertThat(index.ntotal()).isEqualTo(2);
            assertThat(index.is_trained()).isTrue();
            assertThat(index.metric_type()).isEqualTo(FaissLibrary.METRIC_L2);
            assertThat(back).containsExactly(4, 5, 6);
        } finally {
            FaissLibrary.delete(index);
        }
    }

    @Test
    void a_cpp_exception_arrives_as_a_java_runtime_exception_and_the_jvm_goes_on() {
        assertThatThrownBy(() -> FaissLibrary.index_factory(8, "NoSuchIndex", FaissLibrary.METRIC_L2))
                .isExactlyInstanceOf(RuntimeException.class)
                .hasMessageContaining("could not parse index string NoSuchIndex");

        // HNSW has no remove_ids in FAISS 1.7.3: Index::remove_ids throws, nothing aborts.
        FaissLibrary.Index hnsw = FaissLibrary.index_factory(8, "HNSW32,Flat", FaissLibrary.METRIC_L2);
        try (FaissLibrary.IDSelectorBatch selector = new FaissLibrary.IDSelectorBatch(1, new long[] {0})) {
            assertThatThrownBy(() -> hnsw.remove_ids(selector))
                    .isExactlyInstanceOf(RuntimeException.class)
                    .hasMessageContaining("remove_ids not implemented for this type of index");
        } finally {
            FaissLibrary.delete(hnsw);
        }
    }

    @Test
    void dynamic_casts_see_through_to_the_index_type() {
        FaissLibrary.Index wrapped = FaissLibrary.index_factory(8, "IDMap2,HNSW32,Flat", FaissLibrary.METRIC_L2);
        try {
            FaissLibrary.IndexIDMap idMap = FaissLibrary.asIndexIDMap(wrapped);

            assertThat(idMap).isNotNull();
            assertThat(FaissLibrary.asIndexHNSW(idMap.index())).isNotNull();
            assertThat(FaissLibrary.asIndexIVF(idMap.index())).isNull();
            assertThat(FaissLibrary.asIndexHNSW(wrapped)).isNull();
        } finally {
            FaissLibrary.delete(wrapped);
        }
    }
}
