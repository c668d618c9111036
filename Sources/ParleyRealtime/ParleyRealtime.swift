/// The real-time layer. The event bus and hub arrive with the real-time issue; the target exists
/// now so that the walls between modules are set.
public enum ParleyRealtime {}
