package io.imsrc.query.health;

import java.util.Optional;

/** A part of the server that /health/ready asks whether it can do its work. */
public interface HealthCheck {

    /** The part's name in /health/ready's {@code checks}, in snake case ("index_refresh"). */
    String name();

    /** Why the part cannot do its work now, or empty when it can. Cheap, never blocks on a service. */
    Optional<String> problem();
}
