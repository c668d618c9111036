/// The AI assistant. Providers and the assistant arrive with the AI issue; the target exists now
/// so that the walls between modules are set.
public enum ParleyAI {}
