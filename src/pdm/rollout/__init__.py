"""The rollout saga process: the imperative shell around `pdm.domain.rollout_steps.next_step`."""
